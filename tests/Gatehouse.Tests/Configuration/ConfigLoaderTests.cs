using Gatehouse.Configuration;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly TempDirectory _temp = new("gatehouse-config-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ManyErrors_AreAllReportedInOneRun_FileProblemsInSourceOrderThenCrossBlockRules()
    {
        var lines = Lines(LoadFixture("many-errors.hcl"));

        string[] expected =
        [
            "many-errors.hcl:2:3: vault: unknown key \"adress\"; did you mean address?",
            "many-errors.hcl:9:14: auto_auth.method \"approle\": missing 'role_id_file_path' value",
            "many-errors.hcl:16:14: auto_auth.sink \"file\": 'path' not specified for file sink",
            "many-errors.hcl:17:14: auto_auth.sink \"file\".config.mode: could not parse 'mode' as integer",
            "many-errors.hcl:23:25: api_proxy.use_auto_auth_token: value of 'use_auto_auth_token' can be either true/false/force, \"always\" is an invalid option",
            "many-errors.hcl:28:17: listener \"tcp\".tls_disable: expected a boolean, got a list",
            "many-errors.hcl:29:17: listener \"tcp\".role: unsupported listener role \"admin\"",
            "many-errors.hcl:32:1: template: not supported by Gatehouse (Vault Agent templating)",
            "many-errors.hcl:6:3: auto_auth.method \"approle\": min_backoff cannot be greater than max_backoff; min_backoff is 10m0s and max_backoff is 1m0s",
            "many-errors.hcl:14:3: auto_auth.sink \"file\": specifying 'derive_key' data without 'dh_type' does not make sense",
        ];
        Assert.Equal(expected.Length, lines.Count);
        for (var i = 0; i < expected.Length; i++)
            Assert.StartsWith(expected[i], lines[i], StringComparison.Ordinal);
    }

    [Fact]
    public void HclAndJsonForms_OfTheSameConfig_BindToTheSameEffectiveConfiguration()
    {
        var hcl = Valid(LoadFixture("full.hcl"));
        var json = Valid(LoadFixture("full.json"));

        Assert.Equal(Normalise(hcl), Normalise(json));
        Assert.Equal("auth/jwt-prod", hcl.AutoAuth!.Method.EffectiveMountPath);
        Assert.Equal(TimeSpan.FromMinutes(5), json.AutoAuth!.Method.WrapTtl);
        Assert.Equal(ListenerType.Unix, json.Listeners[1].Type);
        Assert.True(json.Listeners[0].EnableQuit);

        static string Normalise(GatehouseConfig c) =>
            EffectiveConfigJson.ToJson(c with { SourceFiles = [] }).ToJsonString();
    }

    [Fact]
    public void Directory_LoadsHclAndJsonInNameOrder_SkippingEditorTempFiles()
    {
        foreach (var file in Directory.GetFiles(Fixture("merge-dir")))
            File.Copy(file, Path.Combine(_temp, Path.GetFileName(file)));
        foreach (var junk in new[] { "30-listener.hcl~", ".#30-listener.hcl", "#30-listener.hcl#" })
            File.WriteAllText(Path.Combine(_temp, junk), "this is { not valid");

        var config = Valid(ConfigLoader.Load([_temp], NoEnvironment));

        Assert.Equal(["10-vault.hcl", "20-auth.json", "30-listener.hcl"], config.SourceFiles.Select(f => Path.GetFileName(f)));
        Assert.Equal(["127.0.0.1:8100", "127.0.0.1:8101"], config.Listeners.Select(l => l.Address));
        Assert.Equal("https://first:8200", config.Vault.Address);
        Assert.Equal("warn", config.LogLevel);
        Assert.True(config.ExitAfterAuth);
    }

    [Fact]
    public void TwoFiles_LaterBlocksReplaceWhole_ListenersAppend_FlagsOr_LogSettingsKeepLastNonEmpty()
    {
        var first = Write("a.hcl", """
            vault {
              address = "https://a:8200"
              namespace = "ns-a"
            }
            auto_auth {
              method "approle" {
                config = { role_id_file_path = "/a" }
              }
              sink "file" { config = { path = "/a" } }
            }
            listener "tcp" {
              tls_disable = true
            }
            pid_file = "/run/a.pid"
            log_file = "/var/log/a.log"
            disable_idle_connections = ["auto-auth"]
            """);
        var second = Write("b.hcl", """
            vault {
              address = "https://b:8200"
            }
            listener "unix" {
              address = "/run/b.sock"
              tls_disable = true
            }
            log_file = ""
            exit_after_auth = true
            disable_idle_connections = ["proxying"]
            """);

        var config = Valid(ConfigLoader.Load([first, second], NoEnvironment));

        Assert.Equal("https://b:8200", config.Vault.Address);
        Assert.Null(config.Vault.Namespace); // the whole vault block was replaced
        Assert.Equal("/a", config.AutoAuth!.Method.Config.GetString("role_id_file_path"));
        Assert.Equal([ListenerType.Tcp, ListenerType.Unix], config.Listeners.Select(l => l.Type));
        Assert.Equal("/run/a.pid", config.PidFile);
        Assert.Equal("/var/log/a.log", config.LogFile);
        Assert.True(config.ExitAfterAuth);
        Assert.Equal(UpstreamClientSet.AutoAuth | UpstreamClientSet.Proxying, config.DisableIdleConnections);
    }

    [Fact]
    public void ValidationRunsOnceAfterMerging_SoASecondFileCanSupplyTheListener()
    {
        var cacheOnly = Write("cache.hcl", "cache {}\nauto_auth {\n method \"approle\" { config = { role_id_file_path = \"/r\" } }\n sink \"file\" { config = { path = \"/t\" } }\n}\n");
        var listener = Write("listener.hcl", "listener \"tcp\" {\n tls_disable = true\n}\n");

        Assert.False(ConfigLoader.Load([cacheOnly], NoEnvironment).Succeeded);
        Assert.True(ConfigLoader.Load([cacheOnly, listener], NoEnvironment).Succeeded);
    }

    [Fact]
    public void MissingFile_IsADiagnosticNamingThePath()
    {
        var missing = Path.Combine(_temp, "nope.hcl");

        var line = Assert.Single(ConfigLoader.Load([missing], NoEnvironment).Diagnostics).ToString();

        Assert.Equal($"{missing}: error loading configuration: no such file or directory; check the -config path", line);
    }

    [Fact]
    public void ParseErrors_BecomeDiagnosticsWithSnippet_AndOtherFilesAreStillChecked()
    {
        var broken = Write("broken.hcl", "listener \"tcp\" {\n  address \"x\"\n}\n");
        var bad = Write("bad.hcl", "vault {\n  bogus = 1\n}\n");

        var diagnostics = ConfigLoader.Load([broken, bad], NoEnvironment).Diagnostics;

        Assert.Equal(2, diagnostics.Count);
        Assert.StartsWith($"{broken}:2:", diagnostics[0].ToString(), StringComparison.Ordinal);
        Assert.Contains("^", diagnostics[0].ToDisplayString(), StringComparison.Ordinal);
        Assert.StartsWith($"{bad}:2:3: vault: unknown key \"bogus\"", diagnostics[1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigFile_LargerThanTheLimit_IsRefusedWithAClearError()
    {
        var big = Path.Combine(_temp, "big.hcl");
        using (var stream = File.OpenWrite(big))
            stream.SetLength(Gatehouse.Hcl.HclFile.MaxFileBytes + 1L);

        var line = Assert.Single(ConfigLoader.Load([big], NoEnvironment).Diagnostics).ToString();

        Assert.Equal($"{big}: error loading configuration: the file is larger than 16 MiB (16777216 bytes), the most a configuration file may hold", line);
    }

    [Fact]
    public void ConfigPath_DevZero_IsRefusedWithoutGrowingMemory()
    {
        if (!File.Exists("/dev/zero"))
            return;

        var line = Assert.Single(ConfigLoader.Load(["/dev/zero"], NoEnvironment).Diagnostics).ToString();

        Assert.StartsWith("/dev/zero: error loading configuration: the file is larger than 16 MiB", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigDirectory_HoldingAnEndlessOrHugeFile_ReportsThatFile_AndStillChecksTheOthers()
    {
        Write("10-listener.hcl", "listener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {}\n");
        using (var stream = File.OpenWrite(Path.Combine(_temp, "20-big.hcl")))
            stream.SetLength(Gatehouse.Hcl.HclFile.MaxFileBytes + 1L);
        if (File.Exists("/dev/zero"))
            File.CreateSymbolicLink(Path.Combine(_temp, "30-zero.hcl"), "/dev/zero");
        Write("40-bad.hcl", "bogus = 1\n");

        var lines = ConfigLoader.Load([_temp], NoEnvironment).Diagnostics.Select(d => d.ToString()).ToList();

        Assert.StartsWith($"{Path.Combine(_temp, "20-big.hcl")}: error loading configuration: the file is larger than 16 MiB", lines[0], StringComparison.Ordinal);
        if (File.Exists("/dev/zero"))
            Assert.StartsWith($"{Path.Combine(_temp, "30-zero.hcl")}: error loading configuration: the file is larger than 16 MiB", lines[1], StringComparison.Ordinal);
        Assert.StartsWith($"{Path.Combine(_temp, "40-bad.hcl")}:1:1: unknown key \"bogus\"", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void LaterFile_NegativeLogRotateBytes_IsReportedAtItsPlace_NotDroppedByTheMerge()
    {
        var first = Write("a.hcl", "log_rotate_bytes = 1024\nlistener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {}\n");
        var second = Write("b.hcl", "log_level = \"warn\"\nlog_rotate_bytes = -5\n");

        var line = Assert.Single(ConfigLoader.Load([first, second], NoEnvironment).Diagnostics).ToString();

        Assert.StartsWith($"{second}:2:20: log_rotate_bytes: log_rotate_bytes must not be negative", line, StringComparison.Ordinal);
    }

    [Fact]
    public void LaterFileWithoutTheKey_LeavesTheEarlierValueAndItsPlace()
    {
        var first = Write("a.hcl", "log_format = \"xml\"\nlistener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {}\n");
        var second = Write("b.hcl", "log_level = \"warn\"\n");

        var line = Assert.Single(ConfigLoader.Load([first, second], NoEnvironment).Diagnostics).ToString();

        Assert.StartsWith($"{first}:1:14: log_format: unknown log format: xml", line, StringComparison.Ordinal);
    }

    [Fact]
    public void VaultAddress_IsCheckedWhereTheVaultBlockInEffectSetIt()
    {
        var bad = Write("a.hcl", "vault {\n  address = \"vault:8200\"\n}\nlistener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {}\n");
        var replacing = Write("b.hcl", "vault {\n  namespace = \"ns\"\n}\n");
        var other = Write("c.hcl", "log_level = \"warn\"\n");

        Valid(ConfigLoader.Load([bad, replacing], NoEnvironment)); // the whole block was replaced: the default address
        var line = Assert.Single(ConfigLoader.Load([bad, other], NoEnvironment).Diagnostics).ToString();
        Assert.StartsWith($"{bad}:2:13: vault.address: invalid address \"vault:8200\": missing protocol scheme", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ApiProxyBounds_AreCheckedWhereTheApiProxyBlockInEffectSetThem()
    {
        var bad = Write("a.hcl", "listener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {\n  max_upstream_requests = -1\n}\n");
        var replacing = Write("b.hcl", "api_proxy {\n  use_auto_auth_token = false\n}\n");
        var other = Write("c.hcl", "log_level = \"warn\"\n");

        Valid(ConfigLoader.Load([bad, replacing], NoEnvironment)); // the whole block was replaced: the default bound
        var line = Assert.Single(ConfigLoader.Load([bad, other], NoEnvironment).Diagnostics).ToString();
        Assert.StartsWith($"{bad}:5:27: api_proxy.max_upstream_requests: max_upstream_requests must be positive", line, StringComparison.Ordinal);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, content);
        return path;
    }
}
