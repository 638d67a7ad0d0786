using System.Net.Sockets;
using System.Runtime.InteropServices;
using Gatehouse.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Gatehouse.Tests.Hosting;

public sealed class SignalHandlersTests
{
    /// <summary>Records what systemd would hear, in order; throws as a vanished $NOTIFY_SOCKET does when asked to.</summary>
    private sealed class RecordingNotifier(bool fail = false) : ISystemdNotifier
    {
        public List<string> States { get; } = [];

        public bool IsEnabled => true;

        public void Notify(ServiceState state)
        {
            lock (States)
            {
                States.Add(state.ToString());
            }

            if (fail)
            {
                throw new SocketException((int)SocketError.ConnectionRefused);
            }
        }
    }

    [Fact]
    public async Task SignalHandlers_Sighup_ReloadsBetweenReloadingAndReady()
    {
        var notifier = new RecordingNotifier();
        using var handlers = new SignalHandlers(_ => { notifier.States.Add("reload"); return Task.CompletedTask; }, stop: null, notifier);

        await handlers.HandleAsync(PosixSignal.SIGHUP);

        Assert.Equal(["RELOADING=1", "reload", "READY=1"], notifier.States);
    }

    [Fact]
    public async Task SignalHandlers_FailedReload_StillSendsReady()
    {
        var notifier = new RecordingNotifier();
        using var handlers = new SignalHandlers(_ => throw new InvalidOperationException("bad config"), stop: null, notifier);

        await Assert.ThrowsAsync<InvalidOperationException>(() => handlers.HandleAsync(PosixSignal.SIGHUP));

        Assert.Equal(["RELOADING=1", "READY=1"], notifier.States);
    }

    [Fact]
    public async Task SignalHandlers_SystemdGone_ReloadsAnyway()
    {
        var notifier = new RecordingNotifier(fail: true);
        int reloads = 0;
        using var handlers = new SignalHandlers(_ => { reloads++; return Task.CompletedTask; }, stop: null, notifier);

        await handlers.HandleAsync(PosixSignal.SIGHUP);

        Assert.Equal(1, reloads);
        Assert.Equal(["RELOADING=1", "READY=1"], notifier.States);
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGINT)]
    public async Task SignalHandlers_TermAndInt_Stop(PosixSignal signal)
    {
        int stops = 0;
        int reloads = 0;
        var notifier = new RecordingNotifier();
        using var handlers = new SignalHandlers(_ => { reloads++; return Task.CompletedTask; }, () => stops++, notifier);

        await handlers.HandleAsync(signal);

        Assert.Equal(1, stops);
        Assert.Equal(0, reloads);
        Assert.Empty(notifier.States);
    }

    [Fact]
    public async Task SignalHandlers_SighupDuringReload_QueuesOneMore()
    {
        var release = new TaskCompletionSource();
        int reloads = 0;
        using var handlers = new SignalHandlers(
            async _ => { Interlocked.Increment(ref reloads); await release.Task; }, stop: null, new RecordingNotifier());

        var first = handlers.HandleAsync(PosixSignal.SIGHUP);
        var second = handlers.HandleAsync(PosixSignal.SIGHUP);
        var third = handlers.HandleAsync(PosixSignal.SIGHUP); // coalesced into the queued one
        release.SetResult();
        await Task.WhenAll(first, second, third);

        Assert.Equal(2, reloads);
    }
}
