using Gatehouse.Configuration;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

public sealed class EnvironmentOverridesTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void VaultVariables_OverrideTheVaultBlock()
    {
        var config = Valid(LoadFixture("full.hcl", Env(
            ("VAULT_ADDR", "https://env:8200"), ("VAULT_CACERT", "/env/ca.pem"), ("VAULT_CAPATH", "/env/cas"),
            ("VAULT_CLIENT_CERT", "/env/c.pem"), ("VAULT_CLIENT_KEY", "/env/k.pem"), ("VAULT_SKIP_VERIFY", "true"),
            ("VAULT_TLS_SERVER_NAME", "env.internal"), ("VAULT_NAMESPACE", "env-ns"), ("VAULT_MAX_RETRIES", "7"),
            ("VAULT_LOG_LEVEL", "trace"))));

        Assert.Equal(new VaultConfig
        {
            Address = "https://env:8200", CaCert = "/env/ca.pem", CaPath = "/env/cas", ClientCert = "/env/c.pem",
            ClientKey = "/env/k.pem", TlsSkipVerify = true, TlsServerName = "env.internal", Namespace = "env-ns", NumRetries = 7,
        }, config.Vault);
        Assert.Equal("trace", config.LogLevel);
    }

    [Fact]
    public void BaoVariables_WinOverVaultVariables()
    {
        var config = Valid(LoadFixture("full.hcl", Env(("BAO_ADDR", "https://bao:8200"), ("VAULT_ADDR", "https://vault:8200"))));

        Assert.Equal("https://bao:8200", config.Vault.Address);
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("true", true)]
    [InlineData("1", true)]
    public void VaultSkipVerify_IsParsedAsABoolean_SoFalseMeansFalse(string value, bool expected)
    {
        var config = Valid(LoadFixture("full.hcl", Env(("VAULT_SKIP_VERIFY", value))));

        Assert.Equal(expected, config.Vault.TlsSkipVerify);
    }

    [Fact]
    public void VaultSkipVerify_NotABoolean_IsAnError()
    {
        var line = Assert.Single(LoadFixture("full.hcl", Env(("VAULT_SKIP_VERIFY", "yes please"))).Diagnostics).ToString();

        Assert.Equal("environment variable VAULT_SKIP_VERIFY: invalid boolean \"yes please\"; use true or false", line);
    }

    [Fact]
    public void DisableVariables_ReplaceTheConfigValue_ProxyFormFirst()
    {
        var config = Valid(LoadFixture("full.hcl", Env(
            ("VAULT_PROXY_DISABLE_IDLE_CONNECTIONS", "caching"), ("VAULT_AGENT_DISABLE_IDLE_CONNECTIONS", "auto-auth"),
            ("BAO_AGENT_DISABLE_KEEP_ALIVES", "proxying,auto-auth"))));

        Assert.Equal(UpstreamClientSet.Proxying, config.DisableIdleConnections);
        Assert.Equal(UpstreamClientSet.Proxying | UpstreamClientSet.AutoAuth, config.DisableKeepAlives);
    }

    [Fact]
    public void DisableVariable_UnknownValue_UsesVaultsMessage()
    {
        var line = Assert.Single(LoadFixture("full.hcl", Env(("VAULT_PROXY_DISABLE_KEEP_ALIVES", "everything"))).Diagnostics).ToString();

        Assert.StartsWith("environment variable VAULT_PROXY_DISABLE_KEEP_ALIVES: unknown disable_keep_alives value: everything", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Precedence_FlagBeatsEnvironmentBeatsFileBeatsDefault()
    {
        var env = Env(("VAULT_ADDR", "https://env:8200"), ("VAULT_NAMESPACE", "env-ns"));
        var flags = new ConfigOverrides { Address = "https://flag:8200", LogLevel = "error" };

        var config = Valid(LoadFixture("full.hcl", env, flags));

        Assert.Equal("https://flag:8200", config.Vault.Address); // flag over env over file
        Assert.Equal("env-ns", config.Vault.Namespace); // env over (absent) file
        Assert.Equal("error", config.LogLevel); // flag over file's "debug"
        Assert.Equal(3, config.Vault.NumRetries); // file over default
        Assert.Equal(TimeSpan.FromSeconds(1), config.AutoAuth!.Method.EffectiveMinBackoff); // default
    }

    [Theory]
    [InlineData("VAULT_ADDR", ":::", "environment variable VAULT_ADDR: vault.address: invalid address \":::\": missing protocol scheme")]
    [InlineData("BAO_ADDR", "ftp://vault:8200", "environment variable BAO_ADDR: vault.address: unsupported protocol scheme \"ftp\"")]
    [InlineData("VAULT_LOG_LEVEL", "loud", "environment variable VAULT_LOG_LEVEL: log_level: unknown log level: loud")]
    [InlineData("VAULT_MAX_RETRIES", "-7", "environment variable VAULT_MAX_RETRIES: vault.retry.num_retries: num_retries must be -1")]
    public void EnvironmentValue_ThatCannotWork_IsReportedAtTheVariable(string variable, string value, string expected)
    {
        var line = Assert.Single(LoadFixture("full.hcl", Env((variable, value))).Diagnostics).ToString();

        Assert.StartsWith(expected, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-address=:::", "flag -address: vault.address: invalid address \":::\": missing protocol scheme")]
    [InlineData("-address=unix:///run/vault.sock", "flag -address: vault.address: unix socket addresses (unix://) are not supported by Gatehouse yet")]
    [InlineData("-log-level=loud", "flag -log-level: log_level: unknown log level: loud")]
    [InlineData("-log-format=xml", "flag -log-format: log_format: unknown log format: xml")]
    [InlineData("-log-rotate-bytes=-5", "flag -log-rotate-bytes: log_rotate_bytes: log_rotate_bytes must not be negative")]
    [InlineData("-log-rotate-max-files=-2", "flag -log-rotate-max-files: log_rotate_max_files: log_rotate_max_files must be -1")]
    [InlineData("-client-cert=/etc/c.pem", "flag -client-cert: vault.client_cert: both client cert and client key must be provided")]
    public void FlagValue_ThatCannotWork_IsReportedAtTheFlag(string flag, string expected)
    {
        var flags = Gatehouse.Hosting.ConfigArguments.Parse(["-config=x", flag], out var error)!.Overrides;
        Assert.Equal("", error);

        var line = Assert.Single(LoadFixture("full.hcl", flags: flags).Diagnostics).ToString();

        Assert.StartsWith(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public void FlagOverAnInvalidFileValue_IsTheValueChecked_AndNamed()
    {
        var file = Path.Combine(FixturesDirectory, "vault-address-not-a-url.hcl");

        Valid(ConfigLoader.Load([file], NoEnvironment, new ConfigOverrides { Address = "https://good:8200" }));
        var line = Assert.Single(ConfigLoader.Load([file], Env(("VAULT_ADDR", "still not a url"))).Diagnostics).ToString();
        Assert.StartsWith("environment variable VAULT_ADDR: vault.address: invalid address \"still not a url\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void VaultLogFormat_OverridesTheFile_AndTheFlagOverridesIt_AsInVault()
    {
        // Vault's applyLogConfigOverrides: the -log-format flag, else BAO_LOG_FORMAT/VAULT_LOG_FORMAT, else the file.
        Assert.Equal("json", Valid(LoadFixture("full.hcl", Env(("VAULT_LOG_FORMAT", "json")))).LogFormat);
        Assert.Equal("json", Valid(LoadFixture("log-format-invalid.hcl", Env(("VAULT_LOG_FORMAT", "json")))).LogFormat);
        Assert.Equal("json", Valid(LoadFixture("full.hcl", Env(("BAO_LOG_FORMAT", "json"), ("VAULT_LOG_FORMAT", "standard")))).LogFormat);
        Assert.Equal("standard", Valid(LoadFixture("full.hcl", Env(("VAULT_LOG_FORMAT", "json")), new ConfigOverrides { LogFormat = "standard" })).LogFormat);
    }

    [Fact]
    public void VaultLogFormat_Unknown_IsReportedAtTheVariable()
    {
        var line = Assert.Single(LoadFixture("full.hcl", Env(("VAULT_LOG_FORMAT", "xml"))).Diagnostics).ToString();

        Assert.StartsWith("environment variable VAULT_LOG_FORMAT: log_format: unknown log format: xml", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("JSON")]
    [InlineData(" Json ")]
    [InlineData("Standard")]
    public void LogFormat_IsCaseInsensitive_InValidationAsAtStart(string format)
    {
        var config = Valid(LoadFixture("full.hcl", flags: new ConfigOverrides { LogFormat = format }));

        var settings = Gatehouse.Hosting.Logging.LoggingSettings.From(config, "proxy");
        Assert.Equal(format.Trim().Equals("json", StringComparison.OrdinalIgnoreCase)
            ? Gatehouse.Hosting.Logging.LogFormat.Json : Gatehouse.Hosting.Logging.LogFormat.Standard, settings.Format);
    }

    [Fact]
    public void ExitAfterAuthFlag_OverridesTheFileOnlyWhenGiven()
    {
        var merged = Path.Combine(FixturesDirectory, "merge-dir");

        Assert.True(Valid(ConfigLoader.Load([merged], NoEnvironment)).ExitAfterAuth);
        Assert.False(Valid(ConfigLoader.Load([merged], NoEnvironment, new ConfigOverrides { ExitAfterAuth = false })).ExitAfterAuth);
    }
}
