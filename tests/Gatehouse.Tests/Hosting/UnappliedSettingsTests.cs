using System.Collections.Immutable;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class UnappliedSettingsTests
{
    private static GatehouseConfig Config(
        string listenerAddress = "127.0.0.1:8100", string certFile = "a.pem", string logLevel = "info", int line = 1) => new()
    {
        Vault = new VaultConfig { Address = "https://vault:8200" },
        LogLevel = logLevel,
        SourceFiles = [$"agent-{line}.hcl"],
        Origins = ImmutableDictionary<string, SourcePosition>.Empty.Add("log_level", new SourcePosition("agent.hcl", line, 1)),
        ApiProxy = new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing },
        Listeners =
        [
            new ListenerConfig
            {
                Type = ListenerType.Tcp, Address = listenerAddress, TlsCertFile = certFile, TlsKeyFile = "k.pem",
                Position = new SourcePosition("agent.hcl", line, 1),
            },
        ],
    };

    [Fact]
    public void Between_SameSettingsWrittenElsewhere_NamesNothing() =>
        Assert.Empty(UnappliedSettings.Between(Config(line: 1), Config(line: 9)));

    [Fact]
    public void Between_OnlyWhatAReloadApplies_NamesNothing() =>
        Assert.Empty(UnappliedSettings.Between(Config(), Config(certFile: "b.pem", logLevel: "debug")));

    [Fact]
    public void Between_EveryOtherChange_IsNamedByItsPathInTheFile()
    {
        var reloaded = Config(listenerAddress: "127.0.0.1:8101") with
        {
            Vault = new VaultConfig { Address = "https://other:8200", NumRetries = 3 },
            ApiProxy = new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Off },
            Cache = new CacheConfig(),
        };

        Assert.Equal(
            ["vault.address", "vault.retry.num_retries", "api_proxy.use_auto_auth_token", "cache", "listener[0].address"],
            UnappliedSettings.Between(Config(), reloaded));
    }

    [Fact]
    public void Between_AutoAuthPathLists_AreNamedAsAWhole_AndComparedByTheirPatterns()
    {
        static PathPatternConfig[] Patterns(int line, params string[] patterns) =>
            [.. patterns.Select(p => new PathPatternConfig(p, new SourcePosition("agent.hcl", line, 1)))];
        var before = Config() with { ApiProxy = new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns(1, "secret/*", "sys/*") } };
        var moved = Config() with { ApiProxy = new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns(7, "secret/*", "sys/*") } };
        var changed = Config() with
        {
            ApiProxy = new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns(1, "secret/*", "auth/*") },
            Listeners = [Config().Listeners[0] with { AutoAuthTokenDenyPaths = Patterns(2, "sys/*") }],
        };

        Assert.Empty(UnappliedSettings.Between(before, moved));
        Assert.Equal(
            ["api_proxy.auto_auth_token_allow_paths", "listener[0].auto_auth_token_deny_paths"],
            UnappliedSettings.Between(before, changed));
    }

    [Fact]
    public void Between_AListenerAddedOrAMethodConfigValueChanged_IsNamed()
    {
        var before = Config() with
        {
            AutoAuth = new AutoAuthConfig
            {
                Method = new AuthMethodConfig
                {
                    Type = "approle",
                    Config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty.Add("role_id_file_path", new HclString("/a", default)), default),
                },
            },
        };
        var after = before with
        {
            AutoAuth = before.AutoAuth! with
            {
                Method = before.AutoAuth.Method with
                {
                    Config = new ConfigMap(
                        ImmutableDictionary<string, HclNode>.Empty.Add("role_id_file_path", new HclString("/b", new SourcePosition("x.hcl", 3, 3))),
                        default),
                },
            },
            Listeners = [.. before.Listeners, before.Listeners[0] with { Address = "127.0.0.1:8102" }],
        };

        Assert.Equal(["auto_auth.method.config.role_id_file_path", "listener"], UnappliedSettings.Between(before, after));
    }

    [Fact]
    public void Between_CacheSharedAddedRemovedOrChanged_IsNamed_WithoutItsValues()
    {
        var shared = Config() with
        {
            Cache = new CacheConfig { Shared = new SharedConfig { Type = "redis", Address = "127.0.0.1:6379", KeyFile = "/k", Password = "old-password" } },
        };
        var plain = Config() with { Cache = new CacheConfig() };
        var changed = shared with
        {
            Cache = new CacheConfig { Shared = shared.Cache!.Shared! with { Address = "127.0.0.1:6380", KeyFile = "/other", Password = "new-password" } },
        };

        Assert.Equal(["cache.shared"], UnappliedSettings.Between(plain, shared));
        Assert.Equal(["cache.shared"], UnappliedSettings.Between(shared, plain));
        var named = UnappliedSettings.Between(shared, changed);
        Assert.Equal(["cache.shared.address", "cache.shared.password", "cache.shared.key_file"], named);
        Assert.DoesNotContain(named, n => n.Contains("password", StringComparison.Ordinal) && n.Contains("new", StringComparison.Ordinal));
    }

    /// <summary>
    /// The walk reads properties by reflection; a trimmed (Native AOT) binary keeps them only for the records
    /// <see cref="UnappliedSettings.RecordType"/> names. Every record the configuration can hold must be named there,
    /// or a reload would throw on it in any build.
    /// </summary>
    [Fact]
    public void EveryRecordReachableFromGatehouseConfig_IsNamedByRecordType()
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(GatehouseConfig)]);
        while (pending.TryPop(out var type))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (!seen.Add(type) || type.IsValueType || type == typeof(string) || type == typeof(Uri) || type == typeof(ConfigMap)
                || typeof(HclNode).IsAssignableFrom(type) || type == typeof(PathPatternConfig))
            {
                continue;
            }

            if (type.IsGenericType)
            {
                foreach (var argument in type.GetGenericArguments())
                {
                    pending.Push(argument);
                }

                continue;
            }

            var instance = System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type);
            Assert.Equal(type, UnappliedSettings.RecordType(instance));
            foreach (var property in type.GetProperties().Where(p => p.SetMethod is not null))
            {
                pending.Push(property.PropertyType);
            }
        }

        Assert.Contains(typeof(TelemetryConfig), seen);
    }
}
