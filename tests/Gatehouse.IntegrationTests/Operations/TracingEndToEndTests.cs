using System.Text.RegularExpressions;
using System.Threading.Channels;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// <c>telemetry { otlp_traces = true }</c>: a span per proxied request, the child of the client's W3C traceparent, sent
/// on to Vault as the upstream request's traceparent and exported over OTLP to a collector of our own. Off (the
/// default), the client's headers reach Vault untouched and nothing is exported.
/// </summary>
public sealed partial class TracingEndToEndTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientSpan = "00f067aa0ba902b7";
    private const string ClientTraceparent = $"00-{TraceId}-{ClientSpan}-01";

    [Fact]
    public async Task Traces_On_TheUpstreamRequestCarriesOurSpan_InTheClientsTrace_AndTheSpanIsExported()
    {
        await using var collector = await TestUpstream.StartAsync();
        var exports = Channel.CreateUnbounded<(string Path, byte[] Body)>();
        collector.Handler = async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            exports.Writer.TryWrite((context.Request.Path.Value!, body.ToArray()));
        };
        await using var vault = await TestUpstream.StartAsync();
        string? upstreamTraceparent = null;
        vault.Handler = context =>
        {
            upstreamTraceparent = context.Request.Headers["traceparent"].ToString();
            return Task.CompletedTask;
        };
        await using var proxy = await ProxyHarness.StartAsync(
            vault.Address,
            configure: c => c with { Telemetry = new TelemetryConfig { OtlpEndpoint = collector.Address, OtlpTraces = true, OtlpExportInterval = TimeSpan.FromHours(1) } });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/secret/data/app?version=1");
        request.Headers.TryAddWithoutValidation("traceparent", ClientTraceparent);
        using var response = await proxy.Client.SendAsync(request);

        var sent = Traceparent().Match(upstreamTraceparent ?? "");
        Assert.True(sent.Success, $"no W3C traceparent reached Vault: \"{upstreamTraceparent}\"");
        Assert.Equal(TraceId, sent.Groups["trace"].Value);
        Assert.NotEqual(ClientSpan, sent.Groups["span"].Value);

        Assert.True(proxy.Host.Services.GetRequiredService<TracerProvider>().ForceFlush(30_000));
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        (string Path, byte[] Body) export;
        do
        {
            export = await exports.Reader.ReadAsync(hang.Token);
        }
        while (export.Path != "/v1/traces");

        // OTLP protobuf: trace and span ids as raw bytes, names and attribute values as UTF-8 strings.
        var body = export.Body.AsSpan();
        Assert.True(body.IndexOf(Convert.FromHexString(TraceId)) >= 0, "the exported span is not in the client's trace");
        Assert.True(body.IndexOf(Convert.FromHexString(sent.Groups["span"].Value)) >= 0, "the exported span is not the one Vault was told about");
        Assert.True(body.IndexOf(Convert.FromHexString(ClientSpan)) >= 0, "the exported span's parent is not the client's span");
        var text = System.Text.Encoding.UTF8.GetString(export.Body);
        Assert.Contains("proxy GET", text, StringComparison.Ordinal);
        Assert.Contains("/v1/secret/data/app", text, StringComparison.Ordinal);
        Assert.DoesNotContain("version=1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Traces_Off_TheClientsTraceparentReachesVaultUntouched()
    {
        await using var vault = await TestUpstream.StartAsync();
        string? upstreamTraceparent = null;
        vault.Handler = context =>
        {
            upstreamTraceparent = context.Request.Headers["traceparent"].ToString();
            return Task.CompletedTask;
        };
        await using var proxy = await ProxyHarness.StartAsync(vault.Address);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        request.Headers.TryAddWithoutValidation("traceparent", ClientTraceparent);
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(ClientTraceparent, upstreamTraceparent);
        Assert.Null(proxy.Host.Services.GetService<TracerProvider>());
    }

    [GeneratedRegex("^00-(?<trace>[0-9a-f]{32})-(?<span>[0-9a-f]{16})-0[01]$")]
    private static partial Regex Traceparent();
}
