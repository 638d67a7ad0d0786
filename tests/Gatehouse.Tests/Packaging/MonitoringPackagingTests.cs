using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// packaging/prometheus/gatehouse-alerts.yml and packaging/grafana/gatehouse-dashboard.json: the rules pass
/// <c>promtool check rules</c>, each alert fires in <c>promtool test rules</c> on synthetic series, and every metric name
/// the rules and the dashboard use is one that Gatehouse exports (read from the instruments <see cref="GatehouseMetrics"/>
/// declares, named as the Prometheus writer names them). promtool comes from Debian's prometheus package
/// (scripts/install-test-deps.sh).
/// </summary>
public sealed partial class MonitoringPackagingTests
{
    private static readonly string PrometheusDirectory = Path.Combine(AppContext.BaseDirectory, "Packaging", "prometheus");
    private static readonly string Rules = Path.Combine(PrometheusDirectory, "gatehouse-alerts.yml");
    private static readonly string RuleTests = Path.Combine(PrometheusDirectory, "gatehouse-alerts.test.yml");
    private static readonly string Dashboard = Path.Combine(AppContext.BaseDirectory, "Packaging", "grafana", "gatehouse-dashboard.json");

    [Fact]
    public async Task AlertRules_PassPromtoolCheckRules()
    {
        var (exit, output) = await PromtoolAsync("check", "rules", Rules);

        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS: 7 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_EachAlertFiresOnSyntheticSeries_InPromtoolTestRules()
    {
        // Every alert the rules define has a case in the test file that expects it to fire.
        string tests = File.ReadAllText(RuleTests).ReplaceLineEndings("\n");
        var alerts = AlertName().Matches(File.ReadAllText(Rules)).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(
            ["GatehouseTokenExpiring", "GatehouseReloginStorm", "GatehouseVaultUnreachable", "GatehouseCacheNearEntryLimit", "GatehouseCacheNearByteLimit", "GatehouseErrorRatioHigh", "GatehouseSharedStoreDown"],
            alerts);
        foreach (string alert in alerts)
        {
            Assert.Matches($@"alertname: {alert}\n\s+exp_alerts:\n\s+- exp_labels:", tests);
        }

        var (exit, output) = await PromtoolAsync("test", "rules", RuleTests);

        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryMetricNameInTheRulesAndTheDashboard_IsOneGatehouseExports()
    {
        var exported = ExportedPrometheusNames();
        string dashboardText = File.ReadAllText(Dashboard);
        var dashboard = JsonNode.Parse(dashboardText)!;
        var expressions = dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]?.AsArray() ?? [])
            .Select(t => t!["expr"]!.GetValue<string>())
            .Concat(dashboard["templating"]!["list"]!.AsArray().Select(v => v!["definition"]?.GetValue<string>() ?? ""))
            .Append(File.ReadAllText(Rules))
            .ToList();

        var used = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(used);
        Assert.Empty(used.Where(name => !exported.Contains(name)).Order(StringComparer.Ordinal));
        // The dashboard shows each family the alerts watch.
        foreach (string name in new[] { "vault_gatehouse_auth_token_ttl_seconds", "vault_gatehouse_auth_relogins_total", "vault_gatehouse_upstream_reachable",
                     "vault_gatehouse_cache_max_entries", "vault_gatehouse_cache_max_bytes", "vault_gatehouse_proxy_requests_total",
                     "vault_gatehouse_shared_up" })
        {
            Assert.Contains(name, dashboardText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dashboard_IsGrafanaJson_EveryPanelHasAQueryOnTheDataSourceVariable_AndFitsTheGrid()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Dashboard))!;

        Assert.Equal("gatehouse", dashboard["uid"]!.GetValue<string>());
        var panels = dashboard["panels"]!.AsArray().Select(p => p!).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p["id"]!.GetValue<int>()).Distinct().Count());
        foreach (var panel in panels)
        {
            var grid = panel["gridPos"]!;
            Assert.InRange(grid["x"]!.GetValue<int>() + grid["w"]!.GetValue<int>(), 1, 24);
            if (panel["type"]!.GetValue<string>() == "row")
            {
                continue;
            }

            Assert.Equal("${datasource}", panel["datasource"]!["uid"]!.GetValue<string>());
            Assert.NotEmpty(panel["targets"]!.AsArray());
            Assert.All(panel["targets"]!.AsArray(), t => Assert.False(string.IsNullOrWhiteSpace(t!["expr"]!.GetValue<string>())));
        }
    }

    /// <summary>
    /// What a scrape can show: every instrument <see cref="GatehouseMetrics"/> declares, plus the collector's own
    /// dropped-label-set counter, with the default prefix and no host name segment; histograms as their three series.
    /// </summary>
    private static HashSet<string> ExportedPrometheusNames()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var metrics = new GatehouseMetrics(factory);
        using var collector = new MetricsCollector(TimeProvider.System, scope: factory);
        var options = MetricsTestHarnessOptions();

        var names = new HashSet<string>(StringComparer.Ordinal)
        {
            PrometheusWriter.NameOf(MetricsCollector.DroppedLabelSetsName, "{label_set}", MetricKind.Counter, options),
        };
        foreach (var instrument in collector.Collect().Instruments)
        {
            string name = PrometheusWriter.NameOf(instrument.Name, instrument.Unit, instrument.Kind, options);
            if (instrument.Kind == MetricKind.Histogram)
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(name);
            }
        }

        Assert.Contains("vault_agent_proxy_success", names);
        return names;
    }

    private static MetricsOptions MetricsTestHarnessOptions() => new() { DisableHostname = true, PrometheusRetention = TimeSpan.FromHours(24) };

    private static async Task<(int Exit, string Output)> PromtoolAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = PrometheusDirectory,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("promtool is not installed: run scripts/install-test-deps.sh (Debian's prometheus package)");
            throw;
        }

        using (process)
        {
            using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(hang.Token);
            var stderr = process.StandardError.ReadToEndAsync(hang.Token);
            await process.WaitForExitAsync(hang.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    [GeneratedRegex(@"^\s*- alert: (\w+)", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"\bvault_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
