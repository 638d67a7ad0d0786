using Gatehouse.Configuration;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

public sealed class ConfigBinderTests
{
    private const string AutoAuth = """
        auto_auth {
          method "approle" {
            config = { role_id_file_path = "/r" }
          }
          sink "file" {
            config = { path = "/t" }
          }
        }
        """;

    [Theory]
    [InlineData("listener \"tcp\" {\n tls_disable = true\n}")]
    [InlineData("listener {\n type = \"tcp\"\n tls_disable = true\n}")]
    [InlineData("listener = [{\n type = \"tcp\"\n tls_disable = true\n}]")]
    [InlineData("listener = {\n type = \"tcp\"\n tls_disable = true\n}")]
    public void Listener_WrittenAnyHclWay_BindsTheSameTcpListener(string listener)
    {
        var config = Valid(FromHcl(listener + "\n" + AutoAuth));

        var bound = Assert.Single(config.Listeners);
        Assert.Equal(ListenerType.Tcp, bound.Type);
        Assert.True(bound.TlsDisable);
    }

    [Theory]
    [InlineData("""{"listener": {"tcp": {"tls_disable": true}}}""")]
    [InlineData("""{"listener": [{"tcp": {"tls_disable": true}}]}""")]
    [InlineData("""{"listener": [{"type": "tcp", "tls_disable": "true"}]}""")]
    [InlineData("""{"listener": {"type": "tcp", "tls_disable": true}}""")]
    public void Listener_WrittenAnyJsonWay_BindsTheSameTcpListener(string json)
    {
        var config = Valid(FromJson(json));

        var bound = Assert.Single(config.Listeners);
        Assert.Equal(ListenerType.Tcp, bound.Type);
        Assert.True(bound.TlsDisable);
    }

    [Theory]
    [InlineData("method \"AppRole\" {\n config = { role_id_file_path = \"/r\" }\n}")]
    [InlineData("method {\n type = \"approle\"\n config = { role_id_file_path = \"/r\" }\n}")]
    [InlineData("method = {\n type = \"APPROLE\"\n config { role_id_file_path = \"/r\" }\n}")]
    public void Method_LabelOrTypeKey_IsLowerCased(string method)
    {
        var config = Valid(FromHcl($"auto_auth {{\n{method}\nsinks {{\n sink \"file\" {{\n config = {{ path = \"/t\" }}\n }}\n}}\n}}"));

        Assert.Equal("approle", config.AutoAuth!.Method.Type);
        Assert.Equal("auth/approle", config.AutoAuth.Method.EffectiveMountPath);
        Assert.Single(config.AutoAuth.Sinks);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("90", 90)]
    [InlineData("1.5s", 1.5)]
    public void Durations_AcceptGoStringsAndSeconds(string text, double seconds)
    {
        var config = Valid(FromHcl($"auto_auth {{\n method \"approle\" {{\n min_backoff = \"{text}\"\n max_backoff = \"2h\"\n config = {{ role_id_file_path = \"/r\" }}\n }}\n sink \"file\" {{ config = {{ path = \"/t\" }} }}\n}}"));

        Assert.Equal(TimeSpan.FromSeconds(seconds), config.AutoAuth!.Method.MinBackoff);
    }

    [Fact]
    public void Durations_AcceptBareIntegers()
    {
        var config = Valid(FromHcl("auto_auth {\n method \"approle\" {\n min_backoff = 5\n config = { role_id_file_path = \"/r\" }\n }\n sink \"file\" { config = { path = \"/t\" } }\n}"));

        Assert.Equal(TimeSpan.FromSeconds(5), config.AutoAuth!.Method.MinBackoff);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("\"true\"", true)]
    [InlineData("\"T\"", true)]
    [InlineData("\"1\"", true)]
    [InlineData("false", false)]
    [InlineData("\"FALSE\"", false)]
    [InlineData("\"0\"", false)]
    public void Booleans_AcceptGoBoolStrings(string value, bool expected)
    {
        var config = Valid(FromHcl($"vault {{\n tls_skip_verify = {value}\n}}\n{AutoAuth}"));

        Assert.Equal(expected, config.Vault.TlsSkipVerify);
    }

    [Theory]
    [InlineData("0640", 0x1A0)]
    [InlineData("\"0640\"", 0x1A0)]
    [InlineData("\"600\"", 0x180)]
    [InlineData("416", 0x1A0)]
    public void FileSinkMode_AcceptsOctalLiteralsAndOctalStrings(string mode, int expected)
    {
        var config = Valid(FromHcl($"auto_auth {{\n method \"approle\" {{ config = {{ role_id_file_path = \"/r\" }} }}\n sink \"file\" {{\n config = {{\n path = \"/t\"\n mode = {mode}\n }}\n }}\n}}"));

        Assert.Equal(expected, config.AutoAuth!.Sinks[0].Config.GetFileMode("mode"));
    }

    [Theory]
    [InlineData("true", "WhenMissing")]
    [InlineData("\"true\"", "WhenMissing")]
    [InlineData("false", "Off")]
    [InlineData("\"force\"", "Force")]
    [InlineData("\"FORCE\"", "Force")]
    public void UseAutoAuthToken_AcceptsBooleansAndForce(string value, string expected)
    {
        var config = Valid(FromHcl($"api_proxy {{\n use_auto_auth_token = {value}\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal(expected, config.ApiProxy!.UseAutoAuthToken.ToString());
    }

    [Fact]
    public void ApiProxyUpstreamBounds_Bind_AndDefaultTo256And5s()
    {
        var set = Valid(FromHcl($"api_proxy {{\n max_upstream_requests = 64\n upstream_queue_timeout = \"2s\"\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));
        var unset = Valid(FromHcl($"api_proxy {{}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal((64, TimeSpan.FromSeconds(2)), (set.ApiProxy!.EffectiveMaxUpstreamRequests, set.ApiProxy.EffectiveUpstreamQueueTimeout));
        Assert.Equal((256, TimeSpan.FromSeconds(5)), (unset.ApiProxy!.EffectiveMaxUpstreamRequests, unset.ApiProxy.EffectiveUpstreamQueueTimeout));
        Assert.Null(unset.ApiProxy.MaxUpstreamRequests);
    }

    [Fact]
    public void AutoAuthPathLists_BindInApiProxyAndListener_EachPatternAtItsPlace_NeverSplitAtCommas()
    {
        var config = Valid(FromHcl(
            "api_proxy {\n use_auto_auth_token = true\n auto_auth_token_allow_paths = [\"secret/data/app1/*\", \"auth/token/lookup-self\"]\n" +
            " auto_auth_token_deny_paths = \"secret/data/a,b\"\n}\n" +
            "listener \"tcp\" {\n tls_disable = true\n}\n" +
            "listener \"tcp\" {\n address = \"127.0.0.1:8101\"\n tls_disable = true\n auto_auth_token_allow_paths = [\"secret/data/app2/+\"]\n}\n" +
            AutoAuth));

        var apiProxy = config.ApiProxy!;
        Assert.Equal(["secret/data/app1/*", "auth/token/lookup-self"], apiProxy.AutoAuthTokenAllowPaths.Select(p => p.Pattern));
        Assert.Equal((3, 33), (apiProxy.AutoAuthTokenAllowPaths[0].Position.Line, apiProxy.AutoAuthTokenAllowPaths[0].Position.Column));
        Assert.Equal((3, 55), (apiProxy.AutoAuthTokenAllowPaths[1].Position.Line, apiProxy.AutoAuthTokenAllowPaths[1].Position.Column));
        Assert.Equal(["secret/data/a,b"], apiProxy.AutoAuthTokenDenyPaths.Select(p => p.Pattern));
        Assert.False(config.Listeners[0].HasOwnPathRules);
        Assert.Null(config.Listeners[0].AutoAuthTokenAllowPaths);
        Assert.True(config.Listeners[1].HasOwnPathRules);
        Assert.Equal(["secret/data/app2/+"], config.Listeners[1].AutoAuthTokenAllowPaths!.Select(p => p.Pattern));
        Assert.Null(config.Listeners[1].AutoAuthTokenDenyPaths);
    }

    [Fact]
    public void AutoAuthPathLists_InJson_BindAsInHcl_AndShowInTheEffectiveConfig()
    {
        var json = Valid(FromJson("""
            {
              "auto_auth": { "method": { "approle": { "config": { "role_id_file_path": "/r" } } } },
              "api_proxy": { "use_auto_auth_token": "force", "auto_auth_token_deny_paths": ["sys/*"] },
              "listener": [
                { "tcp": { "address": "127.0.0.1:8100", "tls_disable": true } },
                { "tcp": { "address": "127.0.0.1:8101", "tls_disable": true, "auto_auth_token_allow_paths": ["secret/+/app1/*"], "auto_auth_token_deny_paths": [] } }
              ]
            }
            """));

        Assert.Equal(["sys/*"], json.ApiProxy!.AutoAuthTokenDenyPaths.Select(p => p.Pattern));
        Assert.Empty(json.ApiProxy.AutoAuthTokenAllowPaths);
        Assert.Equal(["secret/+/app1/*"], json.Listeners[1].AutoAuthTokenAllowPaths!.Select(p => p.Pattern));
        Assert.Empty(json.Listeners[1].AutoAuthTokenDenyPaths!);

        var effective = EffectiveConfigJson.ToJson(json);
        Assert.Equal("""{"allow":[],"deny":["sys/*"]}""", Lists(effective["api_proxy"]!));
        Assert.Null(effective["listeners"]![0]!["auto_auth_token_allow_paths"]);
        Assert.Equal("""{"allow":["secret/+/app1/*"],"deny":[]}""", Lists(effective["listeners"]![1]!));

        static string Lists(System.Text.Json.Nodes.JsonNode node) =>
            $$"""{"allow":[{{Strings(node["auto_auth_token_allow_paths"]!)}}],"deny":[{{Strings(node["auto_auth_token_deny_paths"]!)}}]}""";

        static string Strings(System.Text.Json.Nodes.JsonNode list) => string.Join(",", list.AsArray().Select(n => $"\"{(string)n!}\""));
    }

    [Fact]
    public void AutoAuthPathPatterns_ThatAreEmptyOrHoldDotSegments_AreEachReportedAtTheirPlace()
    {
        var lines = Lines(LoadFixture("auto-auth-paths-empty-and-dot-segments.hcl"));

        Assert.Equal(3, lines.Count);
        Assert.StartsWith("auto-auth-paths-empty-and-dot-segments.hcl:11:5: api_proxy.auto_auth_token_allow_paths: a pattern must not be empty", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("auto-auth-paths-empty-and-dot-segments.hcl:12:5: api_proxy.auto_auth_token_allow_paths: pattern \"secret//app1\": Vault never routes a path with an empty", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("auto-auth-paths-empty-and-dot-segments.hcl:13:5: api_proxy.auto_auth_token_allow_paths: pattern \"secret/../sys/*\": Vault never routes", lines[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/secret/data/app1/*")]
    [InlineData("*")]
    [InlineData("+")]
    [InlineData("secret/+/config")]
    [InlineData("secret/data/app1/")]
    [InlineData("secret/a+b")]
    public void AutoAuthPathPatterns_AsVaultAcceptsThem_AreValid(string pattern) =>
        Assert.Null(PathPatternRules.Problem(pattern));

    [Theory]
    [InlineData("v1/secret/*")]
    [InlineData("/v1/secret/*")]
    [InlineData("/")]
    [InlineData("//secret")]
    [InlineData("secret/*/x")]
    [InlineData("secret/+*")]
    [InlineData("secret/./x")]
    public void AutoAuthPathPatterns_ThatCouldNeverMatchOrVaultRefuses_AreProblems(string pattern) =>
        Assert.NotNull(PathPatternRules.Problem(pattern));

    [Fact]
    public void LegacyCacheKeys_WithoutApiProxy_MakeTheApiProxy()
    {
        var config = Valid(FromHcl($"cache {{\n use_auto_auth_token = \"force\"\n when_inconsistent = \"retry\"\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal(AutoAuthTokenMode.Force, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal(WhenInconsistent.Retry, config.ApiProxy.WhenInconsistent);
        Assert.True(config.ApiProxy.FromCacheBlock);
        Assert.NotNull(config.Cache);
    }

    [Fact]
    public void LegacyCacheUseAutoAuthToken_WithEmptyApiProxy_IsHonouredInFull()
    {
        // Vault copies only the force bit here (a latent bug); Gatehouse honours true as well.
        var config = Valid(FromHcl($"cache {{\n use_auto_auth_token = true\n}}\napi_proxy {{}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal(AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);
    }

    [Fact]
    public void ListenerApiBlocks_EitherProxyApiOrAgentApi_EnableQuit()
    {
        var config = Valid(FromHcl($"listener \"tcp\" {{\n address = \"127.0.0.1:8101\"\n tls_disable = true\n agent_api {{ enable_quit = true }}\n}}\nlistener \"tcp\" {{\n address = \"127.0.0.1:8102\"\n tls_disable = true\n proxy_api {{ enable_quit = \"true\" }}\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal([true, true, false], config.Listeners.Select(l => l.EnableQuit));
    }

    [Fact]
    public void DisableLists_BindToUpstreamClientSets()
    {
        var config = Valid(FromHcl($"disable_idle_connections = [\"auto-auth\", \"caching\"]\ndisable_keep_alives = [\"proxying\"]\n{AutoAuth}"));

        Assert.Equal(UpstreamClientSet.AutoAuth | UpstreamClientSet.Proxying, config.DisableIdleConnections);
        Assert.Equal(UpstreamClientSet.Proxying, config.DisableKeepAlives);
    }

    [Fact]
    public void Telemetry_AcceptsEveryGoMetricsSinkKey_AndRecordsWhatIsSet()
    {
        var config = Valid(FromHcl($$"""
            telemetry {
              prometheus_retention_time = "30s"
              statsd_address = "127.0.0.1:8125"
              dogstatsd_addr = "127.0.0.1:8126"
              dogstatsd_tags = ["env:prod", "app:web"]
              enable_hostname_label = true
              prefix_filter = ["-vault.gatehouse", "+vault.gatehouse.auth"]
              filter_default = false
              circonus_api_token = "abc"
              stackdriver_project_id = "p"
              usage_gauge_period = "10m"
            }
            {{AutoAuth}}
            """));

        var t = config.Telemetry!;
        Assert.Equal(TimeSpan.FromSeconds(30), t.PrometheusRetentionTime);
        Assert.Equal("127.0.0.1:8125", t.StatsdAddress);
        Assert.Equal("127.0.0.1:8126", t.DogstatsdAddress);
        Assert.Equal(["env:prod", "app:web"], t.DogstatsdTags.ToArray());
        Assert.True(t.EnableHostnameLabel);
        Assert.Equal(["-vault.gatehouse", "+vault.gatehouse.auth"], t.PrefixFilter.ToArray());
        Assert.False(t.FilterDefault);
        Assert.Equal("p", t.Other["stackdriver_project_id"]);
    }

    [Fact]
    public void Telemetry_BadPrefixFilterRulesAndPushAddresses_AreReportedWhereTheyAre()
    {
        var result = FromHcl($$"""
            telemetry {
              prefix_filter = ["+vault.agent", "vault.gatehouse", ""]
              statsd_address = "localhost"
              statsite_address = "::1:8125"
              dogstatsd_addr = "unix://"
            }
            {{AutoAuth}}
            """);

        Assert.False(result.Succeeded);
        Assert.Equal(
            [
                "test.hcl:2:36: telemetry.prefix_filter: filter rule must begin with either '+' or '-': \"vault.gatehouse\"",
                "test.hcl:2:55: telemetry.prefix_filter: cannot have empty filter rule in prefix_filter",
                "test.hcl:3:20: telemetry.statsd_address: \"localhost\" is not host:port (a numeric port from 1 to 65535)",
                "test.hcl:4:22: telemetry.statsite_address: \"::1:8125\" is not host:port (a numeric port from 1 to 65535)",
                "test.hcl:5:20: telemetry.dogstatsd_addr: \"unix://\" names no socket path",
            ],
            Lines(result));
    }

    [Fact]
    public void Telemetry_OtlpKeys_BindAndAreChecked()
    {
        var t = Valid(FromHcl($$"""
            telemetry {
              otlp_endpoint = "http://otel-collector:4317"
              otlp_protocol = "grpc"
              otlp_export_interval = "15s"
            }
            {{AutoAuth}}
            """)).Telemetry!;
        Assert.Equal("http://otel-collector:4317", t.OtlpEndpoint);
        Assert.Equal("grpc", t.OtlpProtocol);
        Assert.Equal(TimeSpan.FromSeconds(15), t.OtlpExportInterval);

        var bad = FromHcl($$"""
            telemetry {
              otlp_endpoint = "otel-collector:4317"
              otlp_protocol = "thrift"
              otlp_export_interval = "0s"
            }
            {{AutoAuth}}
            """);
        Assert.Equal(
            [
                "test.hcl:2:19: telemetry.otlp_endpoint: \"otel-collector:4317\" is not an http:// or https:// URL",
                "test.hcl:3:19: telemetry.otlp_protocol: otlp_protocol \"thrift\" is not http/protobuf or grpc",
                "test.hcl:4:26: telemetry.otlp_export_interval: must be more than 0",
            ],
            Lines(bad));
    }

    [Fact]
    public void Telemetry_PushAddresses_GoDialForms_AndUnixForDogstatsd_AreAccepted()
    {
        var t = Valid(FromHcl($$"""
            telemetry {
              statsd_address = ":8125"
              statsite_address = "[::1]:8125"
              dogstatsd_addr = "unix:///var/run/datadog/dsd.socket"
            }
            {{AutoAuth}}
            """)).Telemetry!;

        Assert.Equal(":8125", t.StatsdAddress);
        Assert.Equal("[::1]:8125", t.StatsiteAddress);
        Assert.Equal("unix:///var/run/datadog/dsd.socket", t.DogstatsdAddress);
    }

    [Fact]
    public void SinkAadEnvVar_IsResolvedFromTheSuppliedEnvironment()
    {
        var hcl = "auto_auth {\n method \"approle\" { config = { role_id_file_path = \"/r\" } }\n sink \"file\" {\n dh_type = \"curve25519\"\n dh_path = \"/dh\"\n aad_env_var = \"MY_AAD\"\n config = { path = \"/t\" }\n }\n}";
        var result = ConfigLoader.FromTree(Gatehouse.Hcl.HclParser.Parse(hcl, "t.hcl"), "t.hcl", name => name == "MY_AAD" ? "from-env" : null);

        Assert.Equal("from-env", Valid(result).AutoAuth!.Sinks[0].Aad);
    }

    [Fact]
    public void UnknownKeyInMethodConfig_IsAnErrorWithASuggestion()
    {
        var result = FromHcl("auto_auth {\n method \"approle\" {\n config = {\n role_id_file_path = \"/r\"\n secret_id_path = \"/s\"\n }\n }\n sink \"file\" { config = { path = \"/t\" } }\n}");

        var line = Assert.Single(Lines(result));
        Assert.Equal("test.hcl:5:2: auto_auth.method \"approle\".config: unknown key \"secret_id_path\"; did you mean secret_id_file_path?", line);
    }

    [Fact]
    public void UnknownKeyWithNothingClose_ListsTheValidKeys()
    {
        var line = Assert.Single(Lines(FromHcl($"vault {{\n frobnicate = 1\n}}\n{AutoAuth}")));

        Assert.StartsWith("test.hcl:2:2: vault: unknown key \"frobnicate\"; valid keys here: retry, address, ca_cert", line, StringComparison.Ordinal);
    }

    [Fact]
    public void VaultRetry_AndEveryVaultKey_Bind()
    {
        var config = Valid(FromHcl($$"""
            vault {
              address = "https://v:8200"
              ca_cert = "/ca.pem"
              ca_path = "/cas"
              client_cert = "/c.pem"
              client_key = "/k.pem"
              tls_skip_verify = "false"
              tls_server_name = "vault.internal"
              namespace = "ns1"
              retry {
                num_retries = -1
                unavailable_budget = "2500ms"
              }
            }
            {{AutoAuth}}
            """));

        Assert.Equal(new VaultConfig
        {
            Address = "https://v:8200", CaCert = "/ca.pem", CaPath = "/cas", ClientCert = "/c.pem", ClientKey = "/k.pem",
            TlsSkipVerify = false, TlsServerName = "vault.internal", Namespace = "ns1", NumRetries = -1,
            UnavailableRetryBudget = TimeSpan.FromMilliseconds(2500),
        }, config.Vault);
        Assert.Equal(0, config.Vault.EffectiveNumRetries);
    }

    [Fact]
    public void VaultRetry_UnavailableBudget_DefaultsTo5s() =>
        Assert.Equal(TimeSpan.FromSeconds(5), Valid(FromHcl($"vault {{\n retry {{\n num_retries = 3\n }}\n}}\n{AutoAuth}")).Vault.EffectiveUnavailableRetryBudget);

    [Fact]
    public void PersistBlock_AcceptsLabelAndAssignedForms()
    {
        var labelled = Valid(FromHcl($"cache {{\n persist \"kubernetes\" {{\n path = \"/c\"\n keep_after_import = true\n }}\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));
        var assigned = Valid(FromHcl($"cache {{\n persist = {{\n type = \"kubernetes\"\n path = \"/c\"\n exit_on_err = \"true\"\n }}\n}}\nlistener \"tcp\" {{ tls_disable = true }}\n{AutoAuth}"));

        Assert.Equal("kubernetes", labelled.Cache!.Persist!.Type);
        Assert.True(labelled.Cache.Persist.KeepAfterImport);
        Assert.Equal("/c", assigned.Cache!.Persist!.Path);
        Assert.True(assigned.Cache.Persist.ExitOnError);
    }
}
