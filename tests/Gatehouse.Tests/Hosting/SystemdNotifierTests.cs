using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gh-sd-").FullName;
    private readonly Socket _receiver = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string _path;

    public SystemdNotifierTests()
    {
        _path = Path.Combine(_dir, "notify.sock");
        _receiver.Bind(new UnixDomainSocketEndPoint(_path));
    }

    public void Dispose()
    {
        _receiver.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Receive()
    {
        var buffer = new byte[256];
        int n = _receiver.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void Notify_SendsOneDatagramPerState()
    {
        var notifier = new SystemdNotifier(_path);

        Assert.True(notifier.Notify(SystemdNotifier.Reloading));
        Assert.True(notifier.Notify(SystemdNotifier.Ready));

        Assert.Equal("RELOADING=1", Receive());
        Assert.Equal("READY=1", Receive());
    }

    [Fact]
    public void Notify_WithoutSocket_IsANoOp()
    {
        Assert.False(new SystemdNotifier(null).Notify(SystemdNotifier.Ready));
        Assert.False(new SystemdNotifier("").IsEnabled);
    }

    [Fact]
    public void Notify_SocketGone_ReturnsFalse() =>
        Assert.False(new SystemdNotifier(Path.Combine(_dir, "nobody.sock")).Notify(SystemdNotifier.Ready));

    [Fact]
    public async Task SignalHandlers_Sighup_ReloadsBetweenReloadingAndReady()
    {
        var notifier = new SystemdNotifier(_path);
        var seen = new List<string>();
        using var handlers = new SignalHandlers(_ => { seen.Add("reload"); return Task.CompletedTask; }, stop: null, notifier);

        await handlers.HandleAsync(PosixSignal.SIGHUP);

        Assert.Equal(["reload"], seen);
        Assert.Equal("RELOADING=1", Receive());
        Assert.Equal("READY=1", Receive());
    }

    [Fact]
    public async Task SignalHandlers_FailedReload_StillSendsReady()
    {
        var notifier = new SystemdNotifier(_path);
        using var handlers = new SignalHandlers(_ => throw new InvalidOperationException("bad config"), stop: null, notifier);

        await Assert.ThrowsAsync<InvalidOperationException>(() => handlers.HandleAsync(PosixSignal.SIGHUP));

        Assert.Equal("RELOADING=1", Receive());
        Assert.Equal("READY=1", Receive());
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGINT)]
    public async Task SignalHandlers_TermAndInt_Stop(PosixSignal signal)
    {
        int stops = 0;
        int reloads = 0;
        using var handlers = new SignalHandlers(_ => { reloads++; return Task.CompletedTask; }, () => stops++, new SystemdNotifier(null));

        await handlers.HandleAsync(signal);

        Assert.Equal(1, stops);
        Assert.Equal(0, reloads);
    }

    [Fact]
    public async Task SignalHandlers_SighupDuringReload_QueuesOneMore()
    {
        var release = new TaskCompletionSource();
        int reloads = 0;
        using var handlers = new SignalHandlers(
            async _ => { Interlocked.Increment(ref reloads); await release.Task; }, stop: null, new SystemdNotifier(null));

        var first = handlers.HandleAsync(PosixSignal.SIGHUP);
        var second = handlers.HandleAsync(PosixSignal.SIGHUP);
        var third = handlers.HandleAsync(PosixSignal.SIGHUP); // coalesced into the queued one
        release.SetResult();
        await Task.WhenAll(first, second, third);

        Assert.Equal(2, reloads);
    }
}
