using System.Net;
using System.Net.Sockets;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// An outage must not flood the log: each kind of upstream failure is logged once at once, then counted, with one
/// line per interval (5 s) while it goes on; YARP's own line for the same failure is not written at all.
/// </summary>
public sealed class OutageLoggingTests
{
    /// <summary>A safety net so a missing line fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task VaultUnreachable_LogsTheFirstFailureAtOnce_ThenACountPerInterval_AndNoYarpDuplicate()
    {
        var vault = $"http://127.0.0.1:{UnusedPort()}";
        var console = new CapturingWriter();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var proxy = await ProxyHarness.StartAsync(vault, logConsole: console, time: time);

        for (var i = 0; i < 20; i++)
        {
            using var response = await proxy.Client.GetAsync("/v1/secret/data/app");
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        // The first failure is logged at once; the other 19 only counted. YARP's duplicate line is gone.
        var log = console.ToString();
        Assert.True(Lines(log, "[WARN]") == 1, "one warning expected, got:\n" + log);
        Assert.Contains($"502 cannot reach Vault at {vault}: Connection refused", log, StringComparison.Ordinal);
        Assert.Equal(0, Lines(log, "Yarp."));

        // At the end of the interval: one line with the count.
        time.Advance(TimeSpan.FromSeconds(5));
        await console.WaitForAsync("502 cannot reach Vault: 19 more requests in the last 5s", Hang);

        // The outage goes on: one more line for the next interval.
        for (var i = 0; i < 3; i++)
        {
            (await proxy.Client.GetAsync("/v1/secret/data/app")).Dispose();
        }

        Assert.Equal(2, Lines(console.ToString(), "[WARN]"));
        time.Advance(TimeSpan.FromSeconds(5));
        await console.WaitForAsync("502 cannot reach Vault: 3 more requests in the last 5s", Hang);

        // A quiet interval closes the window: the next failure is logged at once again.
        time.Advance(TimeSpan.FromSeconds(5));
        (await proxy.Client.GetAsync("/v1/secret/data/app")).Dispose();
        Assert.Equal(4, Lines(console.ToString(), "[WARN]"));
        Assert.Equal(4, Lines(console.ToString(), "cannot reach Vault"));
        Assert.Equal(0, Lines(console.ToString(), "Yarp."));
    }

    private static int Lines(string log, string fragment) =>
        log.Split('\n').Count(line => line.Contains(fragment, StringComparison.Ordinal));

    /// <summary>A loopback port nothing listens on: bound once to learn a free one, then released.</summary>
    private static int UnusedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
