using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Testing;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

/// <summary><c>cache { shared "redis" { ... } }</c>: binding, defaults, and every rule validate can check, with its place.</summary>
public sealed class SharedConfigTests : IDisposable
{
    private static readonly string GoodKey = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ConfigLoadResult Load(string sharedBody, Func<string, string?>? environment = null) =>
        ConfigLoader.FromTree(HclParser.Parse($"cache {{\n  shared \"redis\" {{\n{sharedBody}\n  }}\n}}\nlistener \"tcp\" {{\n  tls_disable = true\n}}\n", "test.hcl"), "test.hcl", environment);

    private string KeyFile(string content)
    {
        var path = _dir.Combine("key-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void NoSharedBlock_BindsNull()
    {
        var config = Valid(FromHcl("cache {}\nlistener \"tcp\" {\n tls_disable = true\n}"));

        Assert.Null(config.Cache!.Shared);
    }

    [Fact]
    public void EffectiveConfig_ShowsTheSharedBlock_WithDefaults_AndNeverThePasswordOrKey()
    {
        var key = KeyFile(GoodKey + "\n");
        var config = Valid(Load($"""
            address = "redis.example:6380"
            username = "gh"
            password = "pw-never-shown"
            key_file = "{key}"
            operation_timeout = "100ms"
            """));

        var shared = EffectiveConfigJson.ToJson(config)["cache"]!["shared"]!;
        var text = shared.ToJsonString();

        Assert.Equal("redis", (string)shared["type"]!);
        Assert.Equal("redis.example:6380", (string)shared["address"]!);
        Assert.Equal("gh", (string)shared["username"]!);
        Assert.Equal(EffectiveConfigJson.Redacted, (string)shared["password"]!);
        Assert.Equal(key, (string)shared["key_file"]!);
        Assert.Equal("gatehouse:", (string)shared["key_prefix"]!);
        Assert.Equal("100ms", (string)shared["operation_timeout"]!);
        Assert.False((bool)shared["tls_enable"]!);
        Assert.DoesNotContain("pw-never-shown", text, StringComparison.Ordinal);
        Assert.DoesNotContain(GoodKey, text, StringComparison.Ordinal);
        Assert.Null(EffectiveConfigJson.ToJson(Valid(FromHcl("cache {}\nlistener \"tcp\" {\n tls_disable = true\n}")))["cache"]!["shared"]);
    }

    [Fact]
    public void EveryKey_IsBound_AndDefaultsAreNamed()
    {
        var key = KeyFile(GoodKey + "\n");
        var ca = KeyFile("ca");
        var config = Valid(Load($"""
            address = "redis.example:6380"
            username = "gh"
            password = "pw"
            tls_ca_cert = "{ca}"
            tls_server_name = "redis.internal"
            key_prefix = "fleet-a:"
            key_file = "{key}"
            connect_timeout = "2s"
            operation_timeout = "100ms"
            """));

        var shared = config.Cache!.Shared!;
        Assert.Equal("redis.example:6380", shared.Address);
        Assert.Equal("gh", shared.Username);
        Assert.True(shared.TlsOn);
        Assert.Equal("fleet-a:", shared.EffectiveKeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(2), shared.EffectiveConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), shared.EffectiveOperationTimeout);

        var plain = Valid(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{key}\"")).Cache!.Shared!;
        Assert.False(plain.TlsOn);
        Assert.Equal(Defaults.SharedKeyPrefix, plain.EffectiveKeyPrefix);
        Assert.Equal(Defaults.SharedOperationTimeout, plain.EffectiveOperationTimeout);
        Assert.Equal(Defaults.SharedConnectTimeout, plain.EffectiveConnectTimeout);
    }

    [Fact]
    public void NoKeySource_IsReportedAtTheBlock()
    {
        var line = Assert.Single(Lines(Load("address = \"127.0.0.1:6379\"")));

        Assert.StartsWith("test.hcl:2:3: cache.shared \"redis\": the shared store needs an encryption key: set key_file or key_env_var", line, StringComparison.Ordinal);
    }

    [Fact]
    public void BothKeySources_AreReported()
    {
        var key = KeyFile(GoodKey);
        var lines = Lines(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{key}\"\nkey_env_var = \"K\"", v => v == "K" ? GoodKey : null));

        Assert.StartsWith("test.hcl:4:12: cache.shared \"redis\": key_file and key_env_var are mutually exclusive", Assert.Single(lines), StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableKeyFile_IsReportedAtKeyFile()
    {
        var missing = _dir.Combine("nope");
        var line = Assert.Single(Lines(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{missing}\"")));

        Assert.StartsWith($"test.hcl:4:12: cache.shared \"redis\".key_file: cannot read key_file {missing}:", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "holds 16 bytes, fewer than 32")]
    [InlineData("not base64!", "is not valid base64")]
    [InlineData("  \n", "is empty")]
    public void KeyFileThatStartUpWouldRefuse_IsReported(string content, string problem)
    {
        var key = KeyFile(content);
        var line = Assert.Single(Lines(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{key}\"")));

        Assert.StartsWith($"test.hcl:4:12: cache.shared \"redis\".key_file: key_file {key} {problem}", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "is not set or empty")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "holds 16 bytes, fewer than 32")]
    public void KeyEnvVarThatStartUpWouldRefuse_IsReportedAtKeyEnvVar(string? value, string problem)
    {
        var line = Assert.Single(Lines(Load("address = \"127.0.0.1:6379\"\nkey_env_var = \"GH_SHARED\"", v => v == "GH_SHARED" ? value : null)));

        Assert.StartsWith($"test.hcl:4:15: cache.shared \"redis\".key_env_var: the environment variable GH_SHARED (key_env_var) {problem}", line, StringComparison.Ordinal);
    }

    [Fact]
    public void LongerKeyMaterial_IsAccepted()
    {
        var key = Convert.ToBase64String(new byte[64]);

        Valid(Load("address = \"unix:///run/redis.sock\"\nkey_env_var = \"GH_SHARED\"", v => v == "GH_SHARED" ? key : null));
    }

    [Theory]
    [InlineData("", "address is required")]
    [InlineData("127.0.0.1", "invalid address \"127.0.0.1\": missing port")]
    [InlineData("127.0.0.1:0", "the port must be a number from 1 to 65535")]
    [InlineData("127.0.0.1:99999", "the port must be a number from 1 to 65535")]
    [InlineData("redis://127.0.0.1:6379", "no scheme is read except unix://")]
    [InlineData("unix://relative.sock", "a unix socket path must be absolute")]
    [InlineData("::1:6379", "missing port")]
    public void BadAddress_IsReportedAtTheAddress(string address, string problem)
    {
        var key = KeyFile(GoodKey);
        var line = Assert.Single(Lines(Load($"address = \"{address}\"\nkey_file = \"{key}\"")));

        Assert.StartsWith("test.hcl:3:11: cache.shared \"redis\".address: ", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[::1]:6379")]
    [InlineData("redis-0.redis.svc.cluster.local:6379")]
    [InlineData("unix:///var/run/redis/redis.sock")]
    public void GoodAddresses_AreValid(string address)
    {
        var key = KeyFile(GoodKey);

        Valid(Load($"address = \"{address}\"\nkey_file = \"{key}\""));
    }

    [Fact]
    public void TlsFiles_AreRead_AndTheClientPairIsChecked()
    {
        var key = KeyFile(GoodKey);
        var missingCa = _dir.Combine("ca.pem");
        var lines = Lines(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{key}\"\ntls_ca_cert = \"{missingCa}\"\ntls_client_cert = \"{key}\""));

        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.StartsWith("test.hcl:6:19: cache.shared \"redis\".tls_client_cert: both tls_client_cert and tls_client_key must be provided", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"test.hcl:5:15: cache.shared \"redis\".tls_ca_cert: cannot read tls_ca_cert {missingCa}", StringComparison.Ordinal));
    }

    [Fact]
    public void OtherRules_AreEachReported()
    {
        var key = KeyFile(GoodKey);
        var lines = Lines(Load($"""
            address = "127.0.0.1:6379"
            key_file = "{key}"
            username = "gh"
            password_file = "{_dir.Combine("missing")}"
            password = "x"
            tls_enable = false
            tls_skip_verify = true
            connect_timeout = "0s"
            operation_timeout = "-1s"
            key_prefix = "a b"
            """));

        Assert.Contains(lines, l => l.Contains("password and password_file are mutually exclusive", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("cannot read password_file", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("tls_enable = false but other tls_* settings are given", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("connect_timeout must be positive", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("operation_timeout must be positive", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("key_prefix must be non-empty and hold no white space", StringComparison.Ordinal));
        Assert.Equal(6, lines.Count);
    }

    [Fact]
    public void UnknownTypeAndKey_AndASecondBlock_AreReported()
    {
        var result = ConfigLoader.FromTree(HclParser.Parse("cache {\n  shared \"memcached\" {\n    adress = \"x\"\n  }\n  shared \"redis\" {}\n}\nlistener \"tcp\" {\n  tls_disable = true\n}\n", "test.hcl"), "test.hcl");
        var lines = Lines(result);

        Assert.Contains(lines, l => l.StartsWith("test.hcl:3:5: cache.shared \"memcached\": unknown key \"adress\"; did you mean address?", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.hcl:5:3: cache: only one \"shared\" block is allowed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.hcl:2:3: cache.shared \"memcached\": shared store type \"memcached\" not supported", StringComparison.Ordinal));
    }

    [Fact]
    public void UsernameWithoutPassword_IsReported()
    {
        var key = KeyFile(GoodKey);
        var line = Assert.Single(Lines(Load($"address = \"127.0.0.1:6379\"\nkey_file = \"{key}\"\nusername = \"gh\"")));

        Assert.Contains("username needs a password", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WrapTtl_WithASharedStore_IsReported()
    {
        var key = KeyFile(GoodKey);
        var hcl = $"auto_auth {{\n  method \"approle\" {{\n    wrap_ttl = \"5m\"\n    config = {{\n      role_id_file_path = \"/r\"\n    }}\n  }}\n  sink \"file\" {{\n    config = {{\n      path = \"/t\"\n    }}\n  }}\n}}\n" +
            $"cache {{\n  shared \"redis\" {{\n    address = \"127.0.0.1:6379\"\n    key_file = \"{key}\"\n  }}\n}}\nlistener \"tcp\" {{\n  tls_disable = true\n}}\n";

        var lines = Lines(ConfigLoader.FromTree(HclParser.Parse(hcl, "test.hcl"), "test.hcl"));

        Assert.Contains(lines, l => l.Contains("auto_auth.method.wrap_ttl: wrap_ttl cannot be used with cache.shared", StringComparison.Ordinal));
    }
}
