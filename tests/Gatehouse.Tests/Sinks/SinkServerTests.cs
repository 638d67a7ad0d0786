using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Sinks;
using Gatehouse.Telemetry;
using Gatehouse.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Sinks;

public sealed class SinkServerTests : IDisposable
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("gatehouse-sinks-");
    private readonly FakeTimeProvider _time = new();
    private readonly TokenStore _store = new();
    private readonly GatehouseMetrics _metrics = new();

    public void Dispose()
    {
        _metrics.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task SinkServer_NewToken_IsWrittenToEverySink()
    {
        var a = FileSinkAt("a");
        var b = FileSinkAt("b");
        var server = new SinkServer([a, b], _store, _metrics, _time, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);

        _store.Publish(Token("s.one"));
        await server.FirstTokenWritten.WaitAsync(Hang);

        Assert.Equal("s.one", await File.ReadAllTextAsync(a.File.Path));
        Assert.Equal("s.one", await File.ReadAllTextAsync(b.File.Path));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SinkServer_FailingSink_DoesNotBlockOthersAndRetriesWithBackoff()
    {
        var good = FileSinkAt("good");
        var broken = new FlakySink(failures: 3);
        var server = new SinkServer([broken, good], _store, _metrics, _time, NullLoggerFactory.Instance, random: () => 0);
        var retries = Channel.CreateUnbounded<TimeSpan>();
        foreach (var writer in server.Writers)
        {
            writer.RetryWaiting += (_, delay) => retries.Writer.TryWrite(delay);
        }

        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);
        _store.Publish(Token("s.one"));

        await server.Writers[1].FirstWritten.WaitAsync(Hang);
        Assert.Equal("s.one", await File.ReadAllTextAsync(good.File.Path));
        Assert.False(server.FirstTokenWritten.IsCompleted);

        var schedule = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var delay = await retries.Reader.ReadAsync().AsTask().WaitAsync(Hang);
            schedule.Add(delay.TotalSeconds);
            _time.Advance(delay);
        }

        await server.FirstTokenWritten.WaitAsync(Hang);
        Assert.Equal([1, 2, 4], schedule);
        Assert.Equal(["s.one"], broken.Written);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SinkServer_RetriesWithTheLatestToken()
    {
        var broken = new FlakySink(failures: 1);
        var server = new SinkServer([broken], _store, _metrics, _time, NullLoggerFactory.Instance, random: () => 0);
        var retries = Channel.CreateUnbounded<TimeSpan>();
        var offered = Channel.CreateUnbounded<string>();
        server.Writers[0].RetryWaiting += (_, delay) => retries.Writer.TryWrite(delay);
        server.Writers[0].Offered += (_, token) => offered.Writer.TryWrite(token.Token);
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);

        _store.Publish(Token("s.old"));
        var delay = await retries.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        _store.Publish(Token("s.new"));

        // The server hands tokens to the writer on its own loop: wait until s.new is pending, then end the backoff.
        while (await offered.Reader.ReadAsync().AsTask().WaitAsync(Hang) != "s.new")
        {
        }

        Assert.True(server.Writers[0].HasPending);
        _time.Advance(delay);
        await server.FirstTokenWritten.WaitAsync(Hang);

        Assert.Equal(["s.new"], broken.Written);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SinkServer_RenewedSnapshotOfTheSameToken_IsNotRewritten()
    {
        var sink = new FlakySink(failures: 0);
        var server = new SinkServer([sink], _store, _metrics, _time, NullLoggerFactory.Instance);
        var written = Channel.CreateUnbounded<AutoAuthToken>();
        server.Writers[0].Written += (_, t) => written.Writer.TryWrite(t);
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);

        _store.Publish(Token("s.one"));
        await written.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        _store.Publish(Token("s.one") with { Ttl = TimeSpan.FromHours(2) });
        _store.Publish(Token("s.two"));
        var second = await written.Reader.ReadAsync().AsTask().WaitAsync(Hang);

        Assert.Equal("s.two", second.Token);
        Assert.Equal(["s.one", "s.two"], sink.Written);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SinkServer_WithoutSinks_FirstTokenWrittenCompletesOnFirstToken()
    {
        var server = new SinkServer([], _store, _metrics, _time, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource();
        var run = server.RunAsync(stop.Token);
        Assert.False(server.FirstTokenWritten.IsCompleted);
        _store.Publish(Token("s.one"));
        await server.FirstTokenWritten.WaitAsync(Hang);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task SinkPipeline_WithWrapTtl_WritesWrapInfoOfTheToken()
    {
        var vault = new FakeVaultHandler(_ => FakeVaultHandler.Wrapped("s.wrapper", 120, "sys/wrapping/wrap"));
        var sink = new SinkPipeline(new FileSink(Path.Combine(_dir, "wrapped"), 0b110_000_000, null, null),
            TimeSpan.FromMinutes(2), vault.CreateClient(_time));

        await sink.WriteAsync(Token("s.real"), CancellationToken.None);

        var request = Assert.Single(vault.Requests);
        Assert.Equal("/v1/sys/wrapping/wrap", request.Path);
        Assert.Equal("s.real", request.Token);
        Assert.Equal("2m0s", request.WrapTtl);
        Assert.Equal("s.real", JsonDocument.Parse(request.Body).RootElement.GetProperty("token").GetString());
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(sink.File.Path));
        Assert.Equal("s.wrapper", written.RootElement.GetProperty("token").GetString());
        Assert.Equal("sys/wrapping/wrap", written.RootElement.GetProperty("creation_path").GetString());
        Assert.DoesNotContain("s.real", await File.ReadAllTextAsync(sink.File.Path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SinkPipeline_WhenWrappingFails_ThrowsASinkWriteError()
    {
        var vault = new FakeVaultHandler(_ => FakeVaultHandler.Error(HttpStatusCode.Forbidden, "permission denied"));
        var sink = new SinkPipeline(new FileSink(Path.Combine(_dir, "wrapped"), 0b110_000_000, null, null),
            TimeSpan.FromMinutes(2), vault.CreateClient(_time));
        var error = await Assert.ThrowsAsync<SinkWriteException>(() => sink.WriteAsync(Token("s.real"), CancellationToken.None));
        Assert.Contains("permission denied", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s.real", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SinkPipeline_WrappedLogin_WritesTheWrapInfo()
    {
        var sink = FileSinkAt("w");
        await sink.WriteAsync(Token("s.wrap") with { WrapInfoJson = """{"token":"s.wrap"}""" }, CancellationToken.None);
        Assert.Equal("""{"token":"s.wrap"}""", await File.ReadAllTextAsync(sink.File.Path));
    }

    private SinkPipeline FileSinkAt(string name) => new(new FileSink(Path.Combine(_dir, name), 0b110_100_000, null, null));

    private AutoAuthToken Token(string token) => new(token, "acc", _time.GetUtcNow(), TimeSpan.FromHours(1), true);

    /// <summary>Fails its first writes, then records what it is given.</summary>
    private sealed class FlakySink(int failures) : ITokenSink
    {
        private int _failures = failures;

        public string Name => "flaky";

        public List<string> Written { get; } = [];

        public int Offered { get; private set; }

        public void CheckWritable()
        {
        }

        public Task WriteAsync(AutoAuthToken token, CancellationToken cancellationToken)
        {
            Offered++;
            if (_failures-- > 0)
            {
                throw new IOException("disk full");
            }

            Written.Add(token.Token);
            return Task.CompletedTask;
        }
    }
}
