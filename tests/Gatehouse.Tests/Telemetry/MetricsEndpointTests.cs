using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Telemetry;

public sealed class MetricsEndpointTests
{
    private static async Task<(int Status, string? ContentType, string Body)> SendAsync(
        MetricsOptions options, string method = "GET", string query = "", params string[] accept)
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateCounter<long>("vault.agent.auth.success").Add(1);
        var endpoint = new MetricsEndpoint(h.Collector, options);
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/agent/v1/metrics";
        context.Request.QueryString = new QueryString(query);
        if (accept.Length > 0)
        {
            context.Request.Headers.Accept = accept;
        }

        var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.HandleAsync(context);
        return (context.Response.StatusCode, context.Response.ContentType, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static readonly MetricsOptions Enabled = MetricsTestHarness.Options();
    private static readonly MetricsOptions Disabled = MetricsOptions.From(null, "host");

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("HEAD")]
    public async Task Metrics_NonGet_Returns405WithEmptyErrors(string method)
    {
        var (status, type, body) = await SendAsync(Enabled, method);
        Assert.Equal(405, status);
        Assert.Equal("application/json", type);
        Assert.Equal("""{"errors":[]}""", body);
    }

    [Fact]
    public async Task Metrics_Default_IsVaultJson()
    {
        var (status, type, body) = await SendAsync(Disabled);
        Assert.Equal(200, status);
        Assert.Equal("application/json", type);
        Assert.Contains("\"Counters\":[{\"Name\":\"vault.agent.auth.success\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_FormatPrometheus_IsTextExposition()
    {
        var (status, type, body) = await SendAsync(Enabled, query: "?format=prometheus");
        Assert.Equal(200, status);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", type);
        Assert.Contains("\nvault_agent_auth_success 1\n", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/openmetrics-text; version=1.0.0; charset=utf-8")]
    [InlineData("text/plain;version=0.0.4;q=0.5,prometheus/telemetry;q=0.1")]
    public async Task Metrics_AcceptHeader_AsksForPrometheus(string accept)
    {
        var (status, type, _) = await SendAsync(Enabled, accept: accept);
        Assert.Equal(200, status);
        Assert.Equal(PrometheusWriter.ContentType, type);
    }

    [Fact]
    public async Task Metrics_OpenMetricsNotFirstAcceptValue_IsJson()
    {
        var (_, type, _) = await SendAsync(Enabled, accept: ["application/json", "application/openmetrics-text"]);
        Assert.Equal("application/json", type);
    }

    [Fact]
    public async Task Metrics_PrometheusWithoutTelemetryStanza_Returns400()
    {
        var (status, type, body) = await SendAsync(Disabled, query: "?format=prometheus");
        Assert.Equal(400, status);
        Assert.Equal("text/plain", type);
        Assert.Equal("prometheus is not enabled", body);
    }

    [Fact]
    public async Task Metrics_UnknownFormat_Returns400WithQuotedFormat()
    {
        var (status, type, body) = await SendAsync(Enabled, query: "?format=xml%22");
        Assert.Equal(400, status);
        Assert.Equal("text/plain", type);
        Assert.Equal("metric response format \"xml\\\"\" unknown", body);
    }

    [Fact]
    public void Options_PrometheusEnablement_FollowsVaultRules()
    {
        Assert.False(MetricsOptions.From(null, "h").PrometheusEnabled);
        Assert.Equal(TimeSpan.FromHours(24), MetricsOptions.From(new TelemetryConfig(), "h").PrometheusRetention);
        Assert.False(MetricsOptions.From(new TelemetryConfig { PrometheusRetentionTime = TimeSpan.Zero }, "h").PrometheusEnabled);
        Assert.Equal("gh", MetricsOptions.From(new TelemetryConfig { MetricsPrefix = "gh" }, "h").Prefix);
        Assert.True(MetricsOptions.From(new TelemetryConfig { DisableHostname = true }, "h").DisableHostname);
    }

    [Fact]
    public void Options_HostnameSegment_OnlyWithTwoSinksBesidesInMemory_AsVaultDecides()
    {
        const string gauge = "vault.gatehouse.cache.entries";

        // Prometheus alone (the default retention), or one push sink alone: Vault turns the segment off.
        Assert.Equal("vault.gatehouse.cache.entries", MetricsOptions.From(new TelemetryConfig(), "node1").ExportName(gauge, MetricKind.Gauge));
        Assert.Equal("vault.gatehouse.cache.entries", MetricsOptions.From(
            new TelemetryConfig { PrometheusRetentionTime = TimeSpan.Zero, StatsdAddress = "127.0.0.1:8125" }, "node1").ExportName(gauge, MetricKind.Gauge));
        Assert.Null(MetricsOptions.HostnameWarning(new TelemetryConfig()));

        // Prometheus and statsd (or a Stackdriver project Gatehouse does not send to): the segment, and Vault's warning.
        var two = new TelemetryConfig { StatsdAddress = "127.0.0.1:8125" };
        Assert.Equal("vault.node1.gatehouse.cache.entries", MetricsOptions.From(two, "node1").ExportName(gauge, MetricKind.Gauge));
        Assert.Equal("vault.agent.proxy.success", MetricsOptions.From(two, "node1").ExportName("vault.agent.proxy.success", MetricKind.Counter));
        Assert.Equal(2, MetricsOptions.ExternalSinkCount(new TelemetryConfig { Other = new Dictionary<string, string> { ["stackdriver_project_id"] = "p" } }));
        Assert.StartsWith("telemetry.disable_hostname has been set to false.", MetricsOptions.HostnameWarning(two), StringComparison.Ordinal);

        // disable_hostname, or enable_hostname_label (the host becomes a label), turn it off.
        Assert.Equal("vault.gatehouse.cache.entries", MetricsOptions.From(two with { DisableHostname = true }, "node1").ExportName(gauge, MetricKind.Gauge));
        Assert.Null(MetricsOptions.HostnameWarning(two with { DisableHostname = true }));
        var labelled = MetricsOptions.From(two with { EnableHostnameLabel = true }, "node1");
        Assert.Equal("vault.gatehouse.cache.entries", labelled.ExportName(gauge, MetricKind.Gauge));
        Assert.Equal("node1", labelled.HostLabel);
    }

    [Fact]
    public void Options_PrefixFilter_LongestPrefixDecides_BlockWinsATie_DefaultOtherwise()
    {
        var options = MetricsOptions.From(
            new TelemetryConfig { PrefixFilter = ["+vault.agent.cache", "-vault.agent", "+vault.gatehouse.x", "-vault.gatehouse.x"] }, "h");

        Assert.True(options.Allows("vault.agent.cache.hit"));
        Assert.False(options.Allows("vault.agent.proxy.success"));
        Assert.False(options.Allows("vault.gatehouse.x.y"));
        Assert.True(options.Allows("vault.gatehouse.proxy.requests"));
        Assert.False(MetricsOptions.From(new TelemetryConfig { FilterDefault = false }, "h").Allows("vault.gatehouse.proxy.requests"));
    }
}
