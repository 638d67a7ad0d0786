using System.Net;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The on-GCE probe as Go's metadata.OnGCE decides, with the ping, DNS and DMI product name faked.</summary>
public sealed class GceProbeTests
{
    private readonly FakeTimeProvider _time = new();

    private static HttpResponseMessage Flavored(string? flavor)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK);
        if (flavor is not null)
        {
            response.Headers.Add("Metadata-Flavor", flavor);
        }

        return response;
    }

    private GceProbe Probe(RecordingHandler ping, Task<IPAddress[]> dns, string? productName, List<string>? lookedUp = null) =>
        new(new HttpMessageInvoker(ping), _time, (name, _) =>
        {
            lookedUp?.Add(name);
            return dns;
        }, () => productName);

    private static Task<IPAddress[]> Never => new TaskCompletionSource<IPAddress[]>().Task;

    [Fact]
    public async Task PingAnsweredWithTheGoogleFlavor_IsGce_WithoutWaitingForDns_AndIsDecidedOnce()
    {
        var ping = new RecordingHandler((_, _) => Flavored("Google"));
        var lookedUp = new List<string>();
        var probe = Probe(ping, Never, productName: null, lookedUp);

        Assert.True(await probe.IsOnComputeEngineAsync());
        Assert.True(await probe.IsOnComputeEngineAsync());

        var (request, _) = Assert.Single(ping.Seen);
        Assert.Equal((HttpMethod.Get, "http://169.254.169.254/"), (request.Method, request.RequestUri!.AbsoluteUri));
        Assert.Equal(["metadata.google.internal."], lookedUp);
    }

    [Fact]
    public async Task DnsNamingTheMetadataIp_IsGce_WhenThePingHangs()
    {
        var probe = new GceProbe(new HttpMessageInvoker(new HangingHandler()), _time,
            (_, _) => Task.FromResult(new[] { IPAddress.Parse("10.0.0.2"), IPAddress.Parse("169.254.169.254") }), () => null);

        Assert.True(await probe.IsOnComputeEngineAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Standard PC (Q35 + ICH9, 2009)")]
    public async Task WithoutAGoogleBios_TheFirstAnswerDecides(string? productName)
    {
        var ping = new RecordingHandler((_, _) => Flavored(null));
        var probe = Probe(ping, Never, productName);

        Assert.False(await probe.IsOnComputeEngineAsync());
    }

    [Fact]
    public async Task NeitherProbeAnswers_IsNotGce()
    {
        var ping = new RecordingHandler((_, _) => throw new HttpRequestException("No route to host"));
        var probe = Probe(ping, Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)), null);

        Assert.False(await probe.IsOnComputeEngineAsync());
    }

    [Fact]
    public async Task WithAGoogleBios_ANoWaitsForTheOtherProbe_WhichMaySayYes()
    {
        var dns = new TaskCompletionSource<IPAddress[]>();
        var probe = Probe(new RecordingHandler((_, _) => Flavored(null)), dns.Task, "Google Compute Engine\n");

        var decided = probe.IsOnComputeEngineAsync();
        await Task.Yield();
        Assert.False(decided.IsCompleted);
        dns.SetResult([IPAddress.Parse("169.254.169.254")]);

        Assert.True(await decided);
    }

    [Fact]
    public async Task WithAGoogleBios_ANoStandsWhenTheOtherProbeSaysNothingWithinFiveSeconds()
    {
        var probe = Probe(new RecordingHandler((_, _) => Flavored(null)), Never, "Google");

        var decided = probe.IsOnComputeEngineAsync();
        _time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Yield();
        Assert.False(decided.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False(await decided.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private sealed class HangingHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
