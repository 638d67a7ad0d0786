using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Configuration;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// packaging/docker/Dockerfile, read as text (no container runtime here to build it): the OCI labels, the publish
/// profiles the target architectures map to, and a HEALTHCHECK that is a valid <c>gatehouse health</c> command aimed at
/// the metrics_only listener of the chart's config.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string Dockerfile =
        File.ReadAllText(Path.Combine(HelmRender.RepositoryRoot, "packaging", "docker", "Dockerfile")).ReplaceLineEndings("\n");

    [Fact]
    public void Labels_AreTheOciAnnotations_WithVersionFromTheProject()
    {
        var labels = OciLabelRegex().Matches(Dockerfile).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Superset(
            new HashSet<string> { "title", "description", "version", "revision", "created", "source", "base.name" },
            labels);
        var project = File.ReadAllText(Path.Combine(HelmRender.RepositoryRoot, "src", "Gatehouse", "Gatehouse.csproj"));
        var version = Regex.Match(project, "<Version>([^<]+)</Version>").Groups[1].Value;
        Assert.Contains($"ARG VERSION={version}\n", Dockerfile, StringComparison.Ordinal);
        Assert.Contains($"appVersion: \"{version}\"", File.ReadAllText(Path.Combine(HelmRender.Chart, "Chart.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTargetArchitecture_HasAPublishProfile()
    {
        var rids = RidRegex().Matches(Dockerfile).Select(m => m.Groups[1].Value).ToArray();

        Assert.Equal(["linux-x64", "linux-arm64"], rids);
        Assert.All(rids, rid => Assert.True(
            File.Exists(Path.Combine(HelmRender.RepositoryRoot, "src", "Gatehouse", "Properties", "PublishProfiles", rid + ".pubxml")),
            $"no publish profile for {rid}"));
    }

    [Fact]
    public void ThePublishProfiles_AreNativeAot_TheShippedForm()
    {
        // What ships is what the process-level tests run (scripts/publish.sh → scripts/test.sh); a profile that fell
        // back to a JIT build would ship something no test ran.
        foreach (var rid in new[] { "linux-x64", "linux-arm64" })
        {
            var profile = File.ReadAllText(Path.Combine(HelmRender.RepositoryRoot, "src", "Gatehouse", "Properties", "PublishProfiles", rid + ".pubxml"));
            Assert.Contains("<PublishAot>true</PublishAot>", profile, StringComparison.Ordinal);
            Assert.Contains($"<RuntimeIdentifier>{rid}</RuntimeIdentifier>", profile, StringComparison.Ordinal);
            Assert.DoesNotContain("PublishSingleFile", profile.Split("-->")[^1], StringComparison.Ordinal);
        }

        var publish = File.ReadAllText(Path.Combine(HelmRender.RepositoryRoot, "scripts", "publish.sh"));
        Assert.Contains("-p:PublishProfile=\"$rid\"", publish, StringComparison.Ordinal);
        Assert.Contains("scripts/publish.sh", File.ReadAllText(Path.Combine(HelmRender.RepositoryRoot, "scripts", "test.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void HealthCheck_IsGatehouseHealth_OnTheChartsMetricsOnlyListener()
    {
        var match = HealthCheckRegex().Match(Dockerfile);
        Assert.True(match.Success, "no exec-form HEALTHCHECK CMD");
        var command = JsonSerializer.Deserialize<string[]>(match.Groups[1].Value)!;

        Assert.Equal(["/usr/local/bin/gatehouse", "health"], command[..2]);
        Assert.Contains("COPY --from=build /out/gatehouse /usr/local/bin/gatehouse\n", Dockerfile, StringComparison.Ordinal);
        var parsed = HealthCommand.Parse(command[2..], _ => null, out var error);
        Assert.True(parsed is not null, error);
        Assert.Equal("ready", parsed.Probe);

        // The chart's default config has its metrics_only listener on that port, on every address (loopback included).
        var docs = HelmRender.Render("");
        var hcl = (string)docs.Single(d => d.Kind == "ConfigMap").Object["data"]!["gatehouse.hcl"]!;
        var config = ConfigLoader.FromTree(Hcl.HclParser.Parse(hcl, "gatehouse.hcl"), "gatehouse.hcl").Config!;
        var metrics = Assert.Single(config.Listeners, l => l.Role == ListenerRole.MetricsOnly);
        Assert.Equal(new Uri(parsed.Address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), metrics.EffectiveAddress.Split(':')[^1]);
        Assert.True(metrics.TlsDisable);
        Assert.StartsWith("http://127.0.0.1:", parsed.Address, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"org\.opencontainers\.image\.([a-z.]+)=""")]
    private static partial Regex OciLabelRegex();

    [GeneratedRegex(@"\) rid=(linux-[a-z0-9]+) ;;")]
    private static partial Regex RidRegex();

    [GeneratedRegex(@"HEALTHCHECK [^\n]*\\\n\s+CMD (\[[^\n]+\])")]
    private static partial Regex HealthCheckRegex();
}
