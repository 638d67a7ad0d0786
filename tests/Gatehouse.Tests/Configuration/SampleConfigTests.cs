using Gatehouse.Configuration;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

/// <summary>Every file under samples/ loads and validates, and means what its comments say.</summary>
public sealed class SampleConfigTests
{
    /// <summary>The key material shared-redis.hcl names by key_env_var (validate reads it), 32 bytes.</summary>
    private static readonly string SharedKey = Convert.ToBase64String(new byte[32]);

    private static GatehouseConfig Sample(string name) =>
        Valid(ConfigLoader.Load([Path.Combine(SamplesDirectory, name)], v => v == "GATEHOUSE_SHARED_KEY" ? SharedKey : null));

    [Fact]
    public void SamplesDirectory_HoldsTheSamples_AndEveryOneIsValid()
    {
        var names = Directory.GetFiles(SamplesDirectory, "*.hcl").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["alicloud-ecs-ram-role.hcl", "approle-file-sink.hcl", "force-unix-tls.hcl", "least-privilege.hcl", "minimal-proxy.hcl", "oci-instance-principal.hcl", "seed.hcl", "shared-redis.hcl", "static-secrets.hcl"], names);
        foreach (var name in names)
            Sample(name);
    }

    [Fact]
    public void AlicloudEcsRamRole_BindsRoleRegionPollAndReauth()
    {
        var config = Sample("alicloud-ecs-ram-role.hcl");

        Assert.Equal("alicloud", config.AutoAuth!.Method.Type);
        Assert.Equal("web", config.AutoAuth.Method.Config.GetString("role"));
        Assert.Equal("cn-hangzhou", config.AutoAuth.Method.Config.GetString("region"));
        Assert.Equal(300, config.AutoAuth.Method.Config.GetInt("credential_poll_interval"));
        Assert.False(config.AutoAuth.Method.Config.Contains("access_key"));
        Assert.True(config.AutoAuth.EnableReauthOnNewCredentials);
    }

    [Fact]
    public void OciInstancePrincipal_BindsTypeRoleAndPoll()
    {
        var config = Sample("oci-instance-principal.hcl");

        Assert.Equal("oci", config.AutoAuth!.Method.Type);
        Assert.Equal("instance", config.AutoAuth.Method.Config.GetString("type"));
        Assert.Equal("web", config.AutoAuth.Method.Config.GetString("role"));
        Assert.Equal("5m", config.AutoAuth.Method.Config.GetString("credential_poll_interval"));
    }

    [Fact]
    public void MinimalProxy_IsOneLoopbackListenerWithoutAutoAuth()
    {
        var config = Sample("minimal-proxy.hcl");

        Assert.Null(config.AutoAuth);
        Assert.Equal(AutoAuthTokenMode.Off, config.ApiProxy!.UseAutoAuthToken);
        var listener = Assert.Single(config.Listeners);
        Assert.Equal("127.0.0.1:8100", listener.Address);
        Assert.True(listener.TlsDisable);
    }

    [Fact]
    public void ApproleFileSink_BindsMethodSinkModeAndRetries()
    {
        var config = Sample("approle-file-sink.hcl");

        Assert.Equal("approle", config.AutoAuth!.Method.Type);
        Assert.Equal("/etc/gatehouse/role-id", config.AutoAuth.Method.Config.GetString("role_id_file_path"));
        Assert.False(config.AutoAuth.Method.Config.GetBool("remove_secret_id_file_after_reading"));
        var sink = Assert.Single(config.AutoAuth.Sinks);
        Assert.Equal(0x1A0, sink.Config.GetFileMode("mode")); // 0640
        Assert.Equal(5, config.Vault.NumRetries);
        Assert.Equal(TimeSpan.FromSeconds(3), config.Vault.UnavailableRetryBudget);
        Assert.Equal(AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal(128, config.ApiProxy.MaxUpstreamRequests);
        Assert.Equal(TimeSpan.FromSeconds(10), config.ApiProxy.UpstreamQueueTimeout);
        Assert.True(config.Listeners[0].RequireRequestHeader);
    }

    [Fact]
    public void ForceUnixTls_BindsForceUnixSocketMutualTlsAndMetricsListener()
    {
        var config = Sample("force-unix-tls.hcl");

        Assert.Equal(AutoAuthTokenMode.Force, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal(3, config.Listeners.Count);
        Assert.Equal(ListenerType.Unix, config.Listeners[0].Type);
        Assert.Equal(0x1B0, config.Listeners[0].SocketMode); // 0660
        Assert.True(config.Listeners[0].TlsDisable); // a local socket: TLS off, so no certificate is needed
        Assert.True(config.Listeners[1].TlsRequireAndVerifyClientCert);
        Assert.False(config.Listeners[1].TlsDisable);
        Assert.Equal(ListenerRole.MetricsOnly, config.Listeners[2].Role);
        Assert.Equal(TimeSpan.FromHours(1), config.Telemetry!.PrometheusRetentionTime);
    }

    [Fact]
    public void Seed_ForcesTheTokenAndEnforcesConsistency()
    {
        var config = Sample("seed.hcl");

        Assert.Equal(AutoAuthTokenMode.Force, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal(EnforceConsistency.Always, config.ApiProxy.EnforceConsistency);
        Assert.Equal("127.0.0.1:8100", config.Listeners[0].Address);
        Assert.Single(config.AutoAuth!.Sinks);
    }

    [Fact]
    public void StaticSecrets_TurnsOnBothCachesWithTheRefreshIntervals()
    {
        var cache = Sample("static-secrets.hcl").Cache!;

        Assert.True(cache.CacheStaticSecrets);
        Assert.False(cache.DisableCachingDynamicSecrets);
        Assert.Equal(TimeSpan.FromMinutes(5), cache.StaticSecretTokenCapabilityRefreshInterval);
        Assert.Equal("pessimistic", cache.StaticSecretTokenCapabilityRefreshBehavior);
        Assert.Equal(TimeSpan.FromSeconds(30), cache.StaticSecretRefreshInterval);
    }

    [Fact]
    public void LeastPrivilege_GivesEachListenerItsOwnPathsOrApiProxys()
    {
        var config = Sample("least-privilege.hcl");

        Assert.Equal(AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal(["auth/token/lookup-self", "auth/token/renew-self"], config.ApiProxy.AutoAuthTokenAllowPaths.Select(p => p.Pattern));
        Assert.Equal(["sys/*"], config.ApiProxy.AutoAuthTokenDenyPaths.Select(p => p.Pattern));
        Assert.False(config.Listeners[0].HasOwnPathRules);
        Assert.Equal(["secret/data/app1/admin/*", "sys/*"], config.Listeners[1].AutoAuthTokenDenyPaths!.Select(p => p.Pattern));
        Assert.Equal(ListenerType.Unix, config.Listeners[2].Type);
        Assert.Equal(["secret/data/app2/+/config", "database/creds/app2"], config.Listeners[2].AutoAuthTokenAllowPaths!.Select(p => p.Pattern));
        Assert.Null(config.Listeners[2].AutoAuthTokenDenyPaths);
    }

    [Fact]
    public void SharedRedis_NamesTheStoreItsKeyAndTheBoundOnEachOperation()
    {
        var shared = Sample("shared-redis.hcl").Cache!.Shared!;

        Assert.Equal("redis", shared.Type);
        Assert.Equal("redis.gatehouse.svc:6379", shared.Address);
        Assert.Equal("GATEHOUSE_SHARED_KEY", shared.KeyEnvVar);
        Assert.Null(shared.KeyFile);
        Assert.Equal(TimeSpan.FromMilliseconds(250), shared.EffectiveOperationTimeout);
        Assert.Equal("gatehouse:", shared.EffectiveKeyPrefix);
        Assert.False(shared.TlsOn);
    }
}
