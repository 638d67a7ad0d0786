using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Tests.Configuration;

/// <summary>docs/configuration.md names every key the binder knows: read, accepted and ignored, or refused.</summary>
public sealed class ConfigurationDocsTests
{
    /// <summary>
    /// Every block the binder has, each written once, so that each block's reader runs and learns its keys. Values do
    /// not matter (problems are not reported by <see cref="ConfigBinder.KnownKeys"/>); the shapes do.
    /// </summary>
    private const string EveryBlock = """
        vault {
          retry {}
        }
        auto_auth {
          method "approle" {
            config {}
          }
          sink "file" {
            config {}
          }
          sinks {
            sink "file" {}
          }
        }
        api_proxy {}
        cache {
          persist "kubernetes" {}
          shared "redis" {}
        }
        listener "tcp" {
          proxy_api {}
          agent_api {}
        }
        telemetry {}
        """;

    private static IReadOnlyList<KnownKey> Known { get; } = ConfigBinder.KnownKeys(HclParser.Parse(EveryBlock, "every-block.hcl"));

    [Fact]
    public void EveryBlockFixture_VisitsEveryBlockTheBinderHas()
    {
        string[] blocks = [.. Known.Select(k => k.Block).Distinct().Order(StringComparer.Ordinal)];

        Assert.Equal(
            [
                "", "api_proxy", "auto_auth", "auto_auth.method", "auto_auth.method \"alicloud\".config", "auto_auth.method \"approle\"",
                "auto_auth.method \"approle\".config", "auto_auth.method \"aws\".config", "auto_auth.method \"azure\".config", "auto_auth.method \"cert\".config", "auto_auth.method \"cf\".config", "auto_auth.method \"gcp\".config", "auto_auth.method \"jwt\".config",
                "auto_auth.method \"kerberos\".config", "auto_auth.method \"kubernetes\".config", "auto_auth.method \"ldap\".config", "auto_auth.method \"oci\".config", "auto_auth.method \"pcf\".config", "auto_auth.method \"token_file\".config",
                "auto_auth.sink",
                "auto_auth.sink \"file\"", "auto_auth.sink \"file\".config", "auto_auth.sinks", "cache", "cache.persist",
                "cache.persist \"kubernetes\"", "cache.shared", "cache.shared \"redis\"", "listener", "listener \"tcp\"", "listener \"tcp\".agent_api",
                "listener \"tcp\".proxy_api", "telemetry", "vault", "vault.retry",
            ],
            blocks);
    }

    [Fact]
    public void ConfigurationReference_NamesEveryKeyTheBinderKnows()
    {
        string docs = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "configuration.md"));

        string[] missing =
        [
            .. Known.Where(k => !docs.Contains($"`{k.Key}`", StringComparison.Ordinal))
                .Select(k => $"{(k.Block.Length == 0 ? "(top level)" : k.Block)}: `{k.Key}` ({k.How})")
                .Distinct(),
        ];

        Assert.True(missing.Length == 0, "docs/configuration.md does not name these keys:\n" + string.Join("\n", missing));
    }
}
