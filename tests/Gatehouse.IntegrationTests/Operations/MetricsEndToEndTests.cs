using System.Net;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>Metrics after a scripted scenario, through the real host against DevVault, in both formats.</summary>
public sealed class MetricsEndToEndTests
{
    private static async Task<OpsHarness> ScenarioAsync(bool cache)
    {
        var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(logLevel: "debug", cache: cache));
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);

        var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, first.Status);
        Assert.Equal("MISS", first.Response.Headers.GetValues("X-Cache").Single());
        var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, second.Status);
        Assert.Equal(cache ? "HIT" : "MISS", second.Response.Headers.GetValues("X-Cache").Single());
        Assert.Equal(404, (await h.SendAsync(HttpMethod.Get, "/v1/secret/missing")).Status);

        // A request is counted once its response has gone out, right before its debug line is written; the client
        // may already hold the response, and a scrape on another connection could miss the count. Wait for the lines.
        await h.WaitForLogAsync("proxied GET /v1/secret/db: status=200", occurrences: 2);
        await h.WaitForLogAsync("proxied GET /v1/secret/missing: status=404");
        return h;
    }

    private static JsonNode? Find(JsonNode document, string section, string name, params (string Key, string Value)[] labels) =>
        document[section]!.AsArray().SingleOrDefault(m =>
            m!["Name"]!.GetValue<string>() == name
            && labels.All(l => m["Labels"]?[l.Key]?.GetValue<string>() == l.Value));

    private static double Sum(JsonNode document, string name, params (string, string)[] labels) =>
        Find(document, "Counters", name, labels)?["Sum"]!.GetValue<double>() ?? 0;

    [Fact]
    public async Task Metrics_AfterLoginHitMissAndClientError_VaultJsonHasVaultsNamesAndOurs()
    {
        await using var h = await ScenarioAsync(cache: true);

        // The metrics_only listener serves them; so would listener 0.
        using var metricsClient = h.ClientFor(1);
        using var response = await metricsClient.GetAsync("/agent/v1/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(1, Sum(json, "vault.agent.auth.success"));
        Assert.Equal(1, Sum(json, "vault.proxy.auth.success"));
        Assert.Equal(2, Sum(json, "vault.agent.proxy.success"));
        Assert.Equal(1, Sum(json, "vault.agent.proxy.client_error"));
        Assert.Equal(0, Sum(json, "vault.agent.proxy.error"));
        Assert.Equal(1, Sum(json, "vault.agent.cache.hit"));
        Assert.Equal(1, Sum(json, "vault.agent.cache.miss"));
        Assert.Equal(2, Sum(json, "vault.gatehouse.proxy.requests", ("listener", "127.0.0.1:0"), ("outcome", "success")));
        Assert.Equal(1, Sum(json, "vault.gatehouse.proxy.requests", ("listener", "127.0.0.1:0"), ("outcome", "client_error")));

        Assert.Equal(3600, Find(json, "Gauges", "vault.gatehouse.auth.token_ttl")!["Value"]!.GetValue<double>());
        Assert.Equal(0, Find(json, "Gauges", "vault.gatehouse.proxy.in_flight", ("listener", "127.0.0.1:0"))!["Value"]!.GetValue<double>());
        Assert.True(Find(json, "Gauges", "vault.gatehouse.cache.entries")!["Value"]!.GetValue<double>() >= 1);

        // The hit never reached Vault: one upstream sample per outcome.
        Assert.Equal(1, Find(json, "Samples", "vault.gatehouse.upstream.duration", ("outcome", "success"))!["Count"]!.GetValue<long>());
        Assert.Equal(1, Find(json, "Samples", "vault.gatehouse.upstream.duration", ("outcome", "client_error"))!["Count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Metrics_Prometheus_ByQueryOrAcceptHeader_OnEveryListener()
    {
        await using var h = await ScenarioAsync(cache: true);

        using var byQuery = await h.Client.GetAsync("/proxy/v1/metrics?format=prometheus");
        using var metricsClient = h.ClientFor(1);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agent/v1/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text; version=1.0.0");
        using var byAccept = await metricsClient.SendAsync(request);
        using var unknown = await h.Client.GetAsync("/agent/v1/metrics?format=statsd");
        using var post = await h.Client.PostAsync("/agent/v1/metrics", null);

        Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
        Assert.Equal("text/plain", byQuery.Content.Headers.ContentType!.MediaType);
        var text = await byQuery.Content.ReadAsStringAsync();
        Assert.Contains("\nvault_agent_auth_success 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_proxy_success 2\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_proxy_client_error 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_cache_hit{kind=\"lease\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_cache_miss 1\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE vault_gatehouse_upstream_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("vault_gatehouse_proxy_requests_total{listener=\"127.0.0.1:0\",outcome=\"success\"}", text, StringComparison.Ordinal);

        // Failure series exist at zero before the first failure (our counters end in _total; Vault's names are Vault's).
        Assert.Contains("\nvault_agent_proxy_error 0\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_auth_failure 0\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_auth_renewals_total{result=\"failed\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_proxy_requests_total{listener=\"127.0.0.1:0\",outcome=\"error\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_upstream_shed_total 0\n", text, StringComparison.Ordinal);

        // .NET's runtime and process metrics, under OpenTelemetry's names as its Prometheus exporter writes them.
        Assert.Contains("# TYPE dotnet_process_cpu_time_seconds_total counter\n", text, StringComparison.Ordinal);
        Assert.Matches("\ndotnet_process_memory_working_set_bytes [1-9][0-9]*\n", text);
        Assert.Contains("\ndotnet_gc_collections_total{gc_heap_generation=\"gen0\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_auth_token_ttl_seconds 3600\n", text, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, byAccept.StatusCode);
        Assert.Contains("vault_agent_cache_hit{kind=\"lease\"} 1", await byAccept.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("metric response format \"statsd\" unknown", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithNoCache_EverySuccessIsAMiss_AndNoHits()
    {
        await using var h = await ScenarioAsync(cache: false);

        using var response = await h.Client.GetAsync("/agent/v1/metrics");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(2, Sum(json, "vault.agent.proxy.success"));
        Assert.Equal(2, Sum(json, "vault.agent.cache.miss"));
        Assert.Equal(0, Sum(json, "vault.agent.cache.hit"));
        Assert.Null(Find(json, "Gauges", "vault.gatehouse.cache.entries"));
    }

    [Fact]
    public async Task Metrics_Dogstatsd_ReceivesVaultsCountersAsTaggedLines_FromTheRealHost()
    {
        using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        var hcl = h.Hcl(logLevel: "debug").Replace(
            "disable_hostname = true",
            $"disable_hostname = true\n  dogstatsd_addr = \"127.0.0.1:{port}\"\n  dogstatsd_tags = [\"env:test\"]",
            StringComparison.Ordinal);
        await h.StartGatehouseAsync(hcl);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        await h.WaitForLogAsync("proxied GET /v1/secret/db: status=200");

        // The next 100 ms flush sends what was recorded: the login, the proxied request, the cache miss.
        h.Time.Advance(TimeSpan.FromMilliseconds(100));
        var lines = new List<string>();
        using var hang = new CancellationTokenSource(OpsHarness.Hang);
        while (!lines.Contains("vault.agent.proxy.success:1|c|#env:test"))
        {
            var packet = await udp.ReceiveAsync(hang.Token);
            lines.AddRange(System.Text.Encoding.UTF8.GetString(packet.Buffer).Split('\n'));
        }

        Assert.Contains("vault.agent.auth.success:1|c|#env:test", lines);
        Assert.Contains("vault.proxy.auth.success:1|c|#env:test", lines);
        Assert.Contains("vault.agent.cache.miss:1|c|#env:test", lines);
        Assert.Contains("vault.gatehouse.proxy.requests:1|c|#env:test,listener:127.0.0.1_0,outcome:success", lines);
        Assert.DoesNotContain("telemetry.dogstatsd_addr", h.ConsoleLog, StringComparison.Ordinal);

        // The sink's own failure and drop series are there, at zero, for Prometheus.
        using var scrape = await h.Client.GetAsync("/agent/v1/metrics?format=prometheus");
        string text = await scrape.Content.ReadAsStringAsync();
        Assert.Contains("vault_gatehouse_metrics_push_failures_total{sink=\"dogstatsd\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("vault_gatehouse_metrics_push_dropped_total{sink=\"dogstatsd\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("vault_gatehouse_metrics_push_queue_dropped_total 0\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_Otlp_ExportsOurNamesAndTheRuntimesToACollector_OverHttpProtobuf()
    {
        // A collector of our own: every OTLP/HTTP export it receives, as the bytes that came.
        await using var collector = await Gatehouse.IntegrationTests.Support.TestUpstream.StartAsync();
        var exports = System.Threading.Channels.Channel.CreateUnbounded<(string Path, string? Type, byte[] Body)>();
        collector.Handler = async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            exports.Writer.TryWrite((context.Request.Path.Value!, context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = 200;
        };
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        var hcl = h.Hcl(logLevel: "debug").Replace(
            "disable_hostname = true",
            $"disable_hostname = true\n  otlp_endpoint = \"{collector.Address}\"\n  otlp_export_interval = \"1h\"\n  prefix_filter = [\"-vault.gatehouse.cache\"]",
            StringComparison.Ordinal);
        await h.StartGatehouseAsync(hcl);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        await h.WaitForLogAsync("proxied GET /v1/secret/db: status=200");

        // The hour-long interval never passes here: a flush sends the export now.
        Assert.True(h.Host.Services.GetRequiredService<MeterProvider>().ForceFlush(30_000));
        using var hang = new CancellationTokenSource(OpsHarness.Hang);
        var (path, type, bytes) = await exports.Reader.ReadAsync(hang.Token);

        // OTLP protobuf carries metric names as UTF-8 strings.
        string body = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Equal("/v1/metrics", path);
        Assert.Equal("application/x-protobuf", type);
        Assert.Contains("vault.agent.proxy.success", body, StringComparison.Ordinal);
        Assert.Contains("vault.gatehouse.proxy.requests", body, StringComparison.Ordinal);
        Assert.Contains("vault.gatehouse.build_info", body, StringComparison.Ordinal);
        Assert.Contains("dotnet.process.cpu.time", body, StringComparison.Ordinal);
        Assert.DoesNotContain("vault.gatehouse.cache.", body, StringComparison.Ordinal);
    }
}
