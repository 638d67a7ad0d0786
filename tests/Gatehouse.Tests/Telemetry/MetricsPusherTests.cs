using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace Gatehouse.Tests.Telemetry;

/// <summary>
/// The statsd, statsite and dogstatsd sinks against real sockets: a UDP (or TCP, or Unix datagram) listener owned by
/// the test receives what <see cref="MetricsPusher"/> sends when the fake clock passes a flush, and the test parses it.
/// </summary>
public sealed class MetricsPusherTests : IDisposable
{
    /// <summary>How long a receive may wait before the test fails instead of hanging; never a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(15);

    private readonly MetricsTestHarness _h = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public void Dispose()
    {
        _stop.Cancel();
        Task.WaitAll([.. _loops], Hang);
        _stop.Dispose();
        _h.Dispose();
    }

    private static MetricsOptions Options(bool hostnameSegment = false, bool hostLabel = false, params string[] tags) => new()
    {
        Prefix = "gh",
        HostName = "node1",
        DisableHostname = !hostnameSegment,
        EnableHostnameLabel = hostLabel,
        DogstatsdTags = tags,
    };

    private (MetricsPusher Pusher, PushSink Sink) Start(PushProtocol protocol, string address, MetricsOptions options)
    {
        var sink = new PushSink(protocol, address, _h.Time, NullLogger.Instance);
        var pusher = new MetricsPusher(_h.Time, options, _h.Collector, [sink]);
        _loops.Add(sink.RunAsync(_stop.Token));
        return (pusher, sink);
    }

    private static UdpClient UdpListener(out string address)
    {
        var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        address = $"127.0.0.1:{((IPEndPoint)udp.Client.LocalEndPoint!).Port}";
        return udp;
    }

    private static async Task<string> ReceiveAsync(UdpClient udp)
    {
        using var hang = new CancellationTokenSource(Hang);
        var result = await udp.ReceiveAsync(hang.Token);
        return Encoding.UTF8.GetString(result.Buffer);
    }

    /// <summary>A statsd packet: every line ends in a newline (go-metrics writes <c>…|c\n</c>).</summary>
    private static string[] StatsdLines(string packet)
    {
        Assert.EndsWith("\n", packet, StringComparison.Ordinal);
        return packet[..^1].Split('\n');
    }

    [Fact]
    public async Task Statsd_CountersTimersAndGauges_ArriveAsGoMetricsWritesThem()
    {
        using var udp = UdpListener(out string address);
        var (pusher, _) = Start(PushProtocol.Statsd, address, Options(hostnameSegment: true));
        using var _ = pusher;
        var success = _h.Meter.CreateCounter<long>("vault.agent.proxy.success");
        var requests = _h.Meter.CreateCounter<long>("vault.gatehouse.proxy.requests");
        var upstream = _h.Meter.CreateHistogram<double>("vault.gatehouse.upstream.duration", "ms");
        var login = _h.Meter.CreateHistogram<double>("vault.gatehouse.auth.login_duration", "s");
        long entries = 7;
        _h.Meter.CreateObservableGauge("vault.gatehouse.cache.entries", () => entries);

        success.Add(1);
        success.Add(0); // how GatehouseMetrics makes a series exist: nothing is sent for it
        requests.Add(2, new KeyValuePair<string, object?>("listener", "0"), new KeyValuePair<string, object?>("outcome", "client error:x"));
        upstream.Record(12.5);
        login.Record(0.25);
        _h.Time.Advance(MetricsPusher.FlushInterval);

        // One line per increment and per sample, the label values appended to the name, ':' and ' ' made '_',
        // the float32 value with six decimals, seconds sent as milliseconds (go-metrics' timers).
        Assert.Equal(
            [
                "gh.agent.proxy.success:1.000000|c",
                "gh.gatehouse.proxy.requests.0.client_error_x:2.000000|c",
                "gh.gatehouse.upstream.duration:12.500000|ms",
                "gh.gatehouse.auth.login_duration:250.000000|ms",
            ],
            StatsdLines(await ReceiveAsync(udp)));

        // Gauges are read every 10 seconds; with the host name segment on they carry it, as in Vault.
        entries = 9;
        _h.Time.Advance(MetricsPusher.GaugeInterval);
        Assert.Equal(["gh.node1.gatehouse.cache.entries:9.000000|g"], StatsdLines(await ReceiveAsync(udp)));
    }

    [Fact]
    public async Task Dogstatsd_LabelsAreTags_AfterTheGlobalTags_AndTheHostNameLeavesTheName()
    {
        using var udp = UdpListener(out string address);
        var (pusher, _) = Start(PushProtocol.Dogstatsd, address, Options(hostnameSegment: true, hostLabel: false, "env:prod", "team"));
        using var _ = pusher;
        var hit = _h.Meter.CreateCounter<long>("vault.agent.cache.hit");
        var upstream = _h.Meter.CreateHistogram<double>("vault.gatehouse.upstream.duration", "ms");
        _h.Meter.CreateObservableGauge("vault.gatehouse.auth.token_ttl", () => 0.1f, "s");

        hit.Add(3, new KeyValuePair<string, object?>("kind", "lease"), new KeyValuePair<string, object?>("odd key", ""));
        upstream.Record(12.5);
        _h.Time.Advance(MetricsPusher.FlushInterval);

        // datadog-go: no trailing newline, lines separated by one; counts as integers, timings in Go's shortest form;
        // a label with no value is its bare (sanitized) name.
        string packet = await ReceiveAsync(udp);
        Assert.Equal(
            [
                "gh.agent.cache.hit:3|c|#env:prod,team,kind:lease,odd_key",
                "gh.gatehouse.upstream.duration:12.5|ms|#env:prod,team",
            ],
            packet.Split('\n'));

        // go-metrics' dogstatsd sink splices the host name out of gauge names (Datadog tags the host itself), and
        // passes float64(float32 value) to datadog-go, which prints it shortest: 0.1f is 0.10000000149011612.
        _h.Time.Advance(MetricsPusher.GaugeInterval);
        Assert.Equal("gh.gatehouse.auth.token_ttl:0.10000000149011612|g|#env:prod,team", await ReceiveAsync(udp));
    }

    [Fact]
    public async Task EnableHostnameLabel_IsANamePartForStatsd_AndAHostTagForDogstatsd()
    {
        using var statsd = UdpListener(out string statsdAddress);
        using var dogstatsd = UdpListener(out string dogAddress);
        var options = Options(hostnameSegment: true, hostLabel: true);
        var statsdSink = new PushSink(PushProtocol.Statsd, statsdAddress, _h.Time, NullLogger.Instance);
        var dogSink = new PushSink(PushProtocol.Dogstatsd, dogAddress, _h.Time, NullLogger.Instance);
        using var pusher = new MetricsPusher(_h.Time, options, _h.Collector, [statsdSink, dogSink]);
        _loops.Add(statsdSink.RunAsync(_stop.Token));
        _loops.Add(dogSink.RunAsync(_stop.Token));
        var relogins = _h.Meter.CreateCounter<long>("vault.gatehouse.auth.relogins");

        relogins.Add(1, new KeyValuePair<string, object?>("listener", "api"));
        _h.Time.Advance(MetricsPusher.FlushInterval);

        Assert.Equal(["gh.gatehouse.auth.relogins.api.node1:1.000000|c"], StatsdLines(await ReceiveAsync(statsd)));
        Assert.Equal("gh.gatehouse.auth.relogins:1|c|#listener:api,host:node1", await ReceiveAsync(dogstatsd));
    }

    [Fact]
    public async Task Statsd_PrefixFilter_DropsWhatItBlocks()
    {
        using var udp = UdpListener(out string address);
        var options = Options() with { PrefixFilter = ["-gh.agent", "+gh.agent.cache"] };
        var (pusher, _) = Start(PushProtocol.Statsd, address, options);
        using var _ = pusher;

        _h.Meter.CreateCounter<long>("vault.agent.proxy.success").Add(1);
        _h.Meter.CreateCounter<long>("vault.agent.cache.miss").Add(1);
        _h.Meter.CreateCounter<long>("vault.gatehouse.proxy.upstream_retries").Add(1);
        _h.Time.Advance(MetricsPusher.FlushInterval);

        Assert.Equal(
            ["gh.agent.cache.miss:1.000000|c", "gh.gatehouse.proxy.upstream_retries:1.000000|c"],
            StatsdLines(await ReceiveAsync(udp)));
    }

    [Fact]
    public async Task Statsd_ManyLines_ArePackedIntoDatagramsOfAtMost1400Bytes_NeverSplittingALine()
    {
        using var udp = UdpListener(out string address);
        var (pusher, _) = Start(PushProtocol.Statsd, address, Options());
        using var _ = pusher;
        var counter = _h.Meter.CreateCounter<long>("vault.gatehouse.proxy.requests");
        var expected = new List<string>();
        for (int i = 0; i < 100; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("listener", $"listener-{i:D3}"));
            expected.Add($"gh.gatehouse.proxy.requests.listener-{i:D3}:1.000000|c");
        }

        _h.Time.Advance(MetricsPusher.FlushInterval);

        var received = new List<string>();
        while (received.Count < expected.Count)
        {
            string packet = await ReceiveAsync(udp);
            Assert.True(Encoding.UTF8.GetByteCount(packet) <= PushSink.StatsdMaxPacket, $"{packet.Length} bytes");
            received.AddRange(StatsdLines(packet));
        }

        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task Statsite_SendsTheStatsdLinesOverOneTcpConnection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (pusher, _) = Start(PushProtocol.Statsite, $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", Options());
        using var _ = pusher;
        var failures = _h.Meter.CreateCounter<long>("vault.gatehouse.sink.write_failures");

        failures.Add(1);
        _h.Time.Advance(MetricsPusher.FlushInterval);
        using var hang = new CancellationTokenSource(Hang);
        using var client = await listener.AcceptTcpClientAsync(hang.Token);
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        Assert.Equal("gh.gatehouse.sink.write_failures:1.000000|c", await reader.ReadLineAsync(hang.Token));

        failures.Add(2);
        _h.Time.Advance(MetricsPusher.FlushInterval);
        Assert.Equal("gh.gatehouse.sink.write_failures:2.000000|c", await reader.ReadLineAsync(hang.Token));
    }

    [Fact]
    public async Task Dogstatsd_UnixDatagramSocket_ReceivesTheLines()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "dsd.socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var (pusher, _) = Start(PushProtocol.Dogstatsd, "unix://" + path, Options());
        using var _ = pusher;

        _h.Meter.CreateCounter<long>("vault.agent.auth.success").Add(1);
        _h.Time.Advance(MetricsPusher.FlushInterval);

        var buffer = new byte[PushSink.DogstatsdUnixMaxPacket];
        using var hang = new CancellationTokenSource(Hang);
        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, hang.Token);
        Assert.Equal("gh.agent.auth.success:1|c", Encoding.UTF8.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task UnreachableStatsite_IsCountedAndLoggedOnce_RecordingNeverFails_AndSendingResumesAfterFiveSeconds()
    {
        // A port that was just free: connecting is refused.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var logger = new FakeLogger();
        var sink = new PushSink(PushProtocol.Statsite, $"127.0.0.1:{port}", _h.Time, logger);
        using var pusher = new MetricsPusher(_h.Time, Options(), _h.Collector, [sink]);
        var counter = _h.Meter.CreateCounter<long>("vault.agent.proxy.success");

        // The send loop's steps, run here one at a time.
        counter.Add(1);
        _h.Time.Advance(MetricsPusher.FlushInterval);
        await sink.SendQueuedAsync(_stop.Token);
        Assert.Equal(1, sink.Failures);

        // While waiting to reconnect, packets are dropped and counted; nothing more is logged.
        counter.Add(1);
        _h.Time.Advance(MetricsPusher.FlushInterval);
        await sink.SendQueuedAsync(_stop.Token);
        Assert.Equal(1, sink.Dropped);
        Assert.Equal(1, sink.Failures);
        var failed = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.StartsWith($"cannot send metrics to statsite at 127.0.0.1:{port}: ", failed.Message, StringComparison.Ordinal);

        // Five seconds on, a listener is there: the next flush connects and sends, and that is logged.
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        _h.Time.Advance(PushSink.RetryAfterFailure);
        counter.Add(5);
        _h.Time.Advance(MetricsPusher.FlushInterval);
        await sink.SendQueuedAsync(_stop.Token);
        using var hang = new CancellationTokenSource(Hang);
        using var client = await listener.AcceptTcpClientAsync(hang.Token);
        using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
        Assert.Equal("gh.agent.proxy.success:5.000000|c", await reader.ReadLineAsync(hang.Token));
        Assert.Equal($"sending metrics to statsite at 127.0.0.1:{port} again", logger.LatestRecord.Message);
        Assert.Equal(1, sink.Failures);
    }

    [Fact]
    public void Recording_NeverWaitsForTheNetwork_TheQueueIsBounded_AndOverflowIsCounted()
    {
        // No send loop runs and no flush happens: every recording only enqueues, and past the bound, drops.
        var sink = new PushSink(PushProtocol.Statsd, "127.0.0.1:9", _h.Time, NullLogger.Instance);
        using var pusher = new MetricsPusher(_h.Time, Options(), _h.Collector, [sink]);
        var counter = _h.Meter.CreateCounter<long>("vault.agent.proxy.success");

        for (int i = 0; i < MetricsPusher.QueueCapacity + 1000; i++)
        {
            counter.Add(1);
        }

        Assert.Equal(1000, pusher.Dropped);
        Assert.Equal(0, sink.Dropped);
    }

    [Fact]
    public void ClosedPackets_WaitInABoundedQueue_AndOverflowIsCounted()
    {
        // No send loop runs: the packets each flush closes wait in the sink's own queue; past it they are dropped.
        var sink = new PushSink(PushProtocol.Statsd, "127.0.0.1:9", _h.Time, NullLogger.Instance);
        using var pusher = new MetricsPusher(_h.Time, Options(), _h.Collector, [sink]);
        var counter = _h.Meter.CreateCounter<long>("vault.agent.proxy.success");

        for (int i = 0; i < PushSink.QueuedPackets + 10; i++)
        {
            counter.Add(1);
            _h.Time.Advance(MetricsPusher.FlushInterval);
        }

        Assert.Equal(10, sink.Dropped);
    }

    [Fact]
    public void GoShortestFloat_IsStrconvFormatFloatOfTheFloat32Value()
    {
        Assert.Equal("12.5", StatsdFormat.GoShortestFloat(12.5f));
        Assert.Equal("1", StatsdFormat.GoShortestFloat(1f));
        Assert.Equal("0.10000000149011612", StatsdFormat.GoShortestFloat(0.1f));
        Assert.Equal("100000002004087730000", StatsdFormat.GoShortestFloat(1e20f));
        Assert.Equal("0.0000009999999974752427", StatsdFormat.GoShortestFloat(1e-6f));
        Assert.Equal("-3", StatsdFormat.GoShortestFloat(-3f));
    }
}
