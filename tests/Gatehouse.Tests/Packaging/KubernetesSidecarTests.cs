using System.Text.RegularExpressions;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// packaging/kubernetes/sidecar.yaml: the Gatehouse configuration in its ConfigMap is valid, and the probes reach the
/// health endpoint on a listener that serves it. No YAML library: the config is the literal block scalar under
/// <c>proxy.hcl: |</c>, and the probes are matched as text.
/// </summary>
public sealed partial class KubernetesSidecarTests
{
    private static readonly string Manifest =
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Packaging", "sidecar.yaml")).ReplaceLineEndings("\n");

    /// <summary>
    /// The lines after <c>&lt;key&gt;: |</c> that are indented deeper than the key (blank lines included), with the
    /// first line's indentation removed: YAML's literal block scalar, for the plain text a ConfigMap holds.
    /// </summary>
    private static string BlockScalar(string yaml, string key)
    {
        string[] lines = yaml.Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimStart() == key + ": |");
        Assert.True(start >= 0, $"no \"{key}: |\" in the manifest");
        int keyIndent = lines[start].Length - lines[start].TrimStart().Length;
        var body = new List<string>();
        int indent = -1;
        for (int i = start + 1; i < lines.Length; i++)
        {
            string line = lines[i];
            int lineIndent = line.Length - line.TrimStart().Length;
            if (line.Trim().Length > 0 && lineIndent <= keyIndent)
                break;
            if (indent < 0 && line.Trim().Length > 0)
                indent = lineIndent;
            body.Add(line.Length >= indent && indent >= 0 ? line[indent..] : "");
        }

        return string.Join("\n", body).TrimEnd() + "\n";
    }

    private static GatehouseConfig SidecarConfig()
    {
        var result = ConfigLoader.FromTree(HclParser.Parse(BlockScalar(Manifest, "proxy.hcl"), "sidecar.yaml:proxy.hcl"), "sidecar.yaml:proxy.hcl");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    [Fact]
    public void SidecarConfigMap_HoldsAValidConfig_WithKubernetesAuthAndForcedToken()
    {
        var config = SidecarConfig();

        Assert.Equal("kubernetes", config.AutoAuth!.Method.Type);
        Assert.Equal("demo-app", config.AutoAuth.Method.Config.GetString("role"));
        Assert.Equal(AutoAuthTokenMode.Force, config.ApiProxy!.UseAutoAuthToken);
        Assert.NotNull(config.Cache);
        Assert.Contains(config.Listeners, l => l.EffectiveAddress == "127.0.0.1:8100" && l.Role == ListenerRole.Default);
    }

    [Fact]
    public void SidecarProbes_HitHealthOnTheMetricsOnlyListener()
    {
        var config = SidecarConfig();
        var port = ContainerPortRegex().Match(Manifest);
        Assert.True(port.Success, "the gatehouse container names no \"metrics\" port");

        // The probes' port is the metrics_only listener (which serves /proxy/v1/health and metrics, never proxies).
        Assert.Contains(config.Listeners, l => l.Role == ListenerRole.MetricsOnly && l.EffectiveAddress.EndsWith(":" + port.Groups[1].Value, StringComparison.Ordinal));
        Assert.Matches(new Regex(@"readinessProbe:\n\s+httpGet:\n\s+path: /proxy/v1/health\n\s+port: metrics\n"), Manifest);

        // Liveness must not follow Vault's reachability (a Vault outage would restart every sidecar): ?probe=live
        // answers 200 whenever the process serves HTTP.
        Assert.Matches(new Regex(@"livenessProbe:\n\s+httpGet:\n\s+path: /proxy/v1/health\?probe=live\n\s+port: metrics\n"), Manifest);
    }

    [GeneratedRegex(@"- name: metrics\n\s+containerPort: (\d+)\n")]
    private static partial Regex ContainerPortRegex();
}
