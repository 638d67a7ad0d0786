using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Hosting;

public sealed class CommandLineTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    private static async Task<(int Code, string Stdout, string Stderr)> Run(Func<string, string?> env, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(args, stdout, stderr, env, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static Task<(int Code, string Stdout, string Stderr)> Run(params string[] args) => Run(NoEnv, args);

    private static string Sample(string name) => Path.Combine(SamplesDirectory, name);

    [Theory]
    [InlineData("proxy")]
    [InlineData("agent")]
    [InlineData("validate")]
    public async Task NoConfig_PrintsVaultsMessageAndHelp_AndExitsOne(string command)
    {
        var (code, _, stderr) = await Run(command);

        Assert.Equal(1, code);
        Assert.StartsWith("Must specify exactly at least one config path using -config", stderr, StringComparison.Ordinal);
        Assert.Contains($"Usage: gatehouse {(command == "agent" ? "proxy" : command)}", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_ValidConfig_RunsTheDaemon_WhichReportsAListenerItCannotBind_AndExitsOne()
    {
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port;
        using var directory = new TempDirectory("gatehouse-cli-");
        var file = directory.Combine("config.hcl");
        await File.WriteAllTextAsync(file, $"listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\n");
        var (code, _, stderr) = await Run("proxy", $"-config={file}");

        Assert.Equal(1, code);
        Assert.StartsWith("Error starting listener: ", stderr, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_InvalidConfig_ListsEveryProblem_AndStartsNothing()
    {
        var (code, stdout, stderr) = await Run("agent", "--config", Fixture("many-errors.hcl"));

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal(11, stderr.Trim().Split('\n').Length);
        Assert.Contains("error validating configuration: 10 problems found; nothing was started", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not implemented yet", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_ParseError_PrintsTheSnippetWithACaret()
    {
        using var directory = new TempDirectory("gatehouse-cli-");
        var file = directory.Combine("config.hcl");
        await File.WriteAllTextAsync(file, "listener \"tcp\" {\n  address \"x\"\n}\n");
        var (code, _, stderr) = await Run("proxy", "-config", file);

        Assert.Equal(1, code);
        Assert.StartsWith($"{file}:2:", stderr, StringComparison.Ordinal);
        Assert.Contains("  address \"x\"", stderr, StringComparison.Ordinal);
        Assert.Contains("^", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-config=X")]
    [InlineData("--config=X")]
    [InlineData("-config", "X")]
    [InlineData("--config", "X")]
    public async Task ConfigFlag_AcceptsEveryGoFlagSpelling(params string[] spelling)
    {
        var args = new[] { "validate" }.Concat(spelling.Select(s => s.Replace("X", Sample("minimal-proxy.hcl"), StringComparison.Ordinal))).ToArray();

        var (code, stdout, stderr) = await Run(args);

        Assert.True(code == 0, stderr);
        Assert.Contains("\"source_files\"", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_RepeatedConfig_MergesInOrder()
    {
        // Samples whose listeners do not share an address: two on one address could never start, and are refused.
        var (code, stdout, _) = await Run("validate", $"-config={Sample("force-unix-tls.hcl")}", $"-config={Sample("seed.hcl")}");

        Assert.Equal(0, code);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(4, json["listeners"]!.AsArray().Count);
        Assert.Equal("http://127.0.0.1:8200", (string?)json["vault"]!["address"]);
    }

    [Fact]
    public async Task Validate_PrintsTheEffectiveConfigAsSnakeCaseJson_WithDefaultsFilledIn()
    {
        var (code, stdout, stderr) = await Run("validate", $"-config={Sample("approle-file-sink.hcl")}");

        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("info", (string?)json["log_level"]);
        Assert.Equal("approle", (string?)json["auto_auth"]!["method"]!["type"]);
        Assert.Equal("5m0s", (string?)json["auto_auth"]!["method"]!["max_backoff"]);
        Assert.Equal(416, (int)json["auto_auth"]!["sinks"]![0]!["config"]!["mode"]!);
        Assert.True((bool)json["api_proxy"]!["use_auto_auth_token"]!);
        Assert.Equal(5, (int)json["vault"]!["retry"]!["num_retries"]!);
    }

    [Fact]
    public async Task Validate_RedactsSecrets_ButPrintsFilePaths()
    {
        using var directory = new TempDirectory("gatehouse-cli-");
        var file = directory.Combine("config.hcl");
        await File.WriteAllTextAsync(file, """
            auto_auth {
              method "cert" {
                config = {
                  name        = "web"
                  client_cert = "/etc/cert.pem"
                  client_key  = "/etc/key.pem"
                }
              }
              sink "file" {
                dh_type = "curve25519"
                dh_path = "/etc/dh.json"
                aad     = "super-secret-aad"
                config  = { path = "/run/token" }
              }
            }
            telemetry {
              circonus_api_token = "circonus-secret"
            }
            """);
        var (code, stdout, stderr) = await Run("validate", $"-config={file}");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("super-secret-aad", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("circonus-secret", stdout, StringComparison.Ordinal);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("<redacted>", (string?)json["auto_auth"]!["sinks"]![0]!["aad"]);
        Assert.Equal("/etc/key.pem", (string?)json["auto_auth"]!["method"]!["config"]!["client_key"]);
        Assert.Equal("/run/token", (string?)json["auto_auth"]!["sinks"]![0]!["config"]!["path"]);
    }

    [Fact]
    public async Task Validate_InvalidConfig_PrintsProblemsToStderr_NothingToStdout_ExitsOne()
    {
        var (code, stdout, stderr) = await Run("validate", $"-config={Fixture("cache-no-listeners.hcl")}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("enabling the cache requires at least 1 listener to be defined", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_PrintsTheAutoAuthPathLists_OfApiProxyAndOfEachListenerThatSetsThem()
    {
        var (code, stdout, stderr) = await Run("validate", $"-config={Sample("least-privilege.hcl")}");

        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(["sys/*"], json["api_proxy"]!["auto_auth_token_deny_paths"]!.AsArray().Select(n => (string)n!));
        Assert.Null(json["listeners"]![0]!["auto_auth_token_allow_paths"]);
        Assert.Equal(["secret/data/app2/+/config", "database/creds/app2"], json["listeners"]![2]!["auto_auth_token_allow_paths"]!.AsArray().Select(n => (string)n!));
        Assert.Empty(json["listeners"]![2]!["auto_auth_token_deny_paths"]!.AsArray());
    }

    [Fact]
    public async Task Validate_ABadAutoAuthPathPattern_IsReportedAtItsPlace_AndProxyRefusesToStart()
    {
        var (code, stdout, stderr) = await Run("validate", $"-config={Fixture("auto-auth-paths-star-in-middle.hcl")}");
        var (proxyCode, _, proxyStderr) = await Run("proxy", $"-config={Fixture("auto-auth-paths-star-in-middle.hcl")}");

        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains(
            $"{Fixture("auto-auth-paths-star-in-middle.hcl")}:10:56: api_proxy.auto_auth_token_allow_paths: pattern \"secret/*/config\": \"*\" may only end a pattern",
            stderr,
            StringComparison.Ordinal);
        Assert.Equal(1, proxyCode);
        Assert.Contains("pattern \"secret/*/config\"", proxyStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_LdapMethod_ReportsEveryBadKeyWithItsPosition_AndAcceptsAGoodOne()
    {
        using var directory = new TempDirectory("gatehouse-cli-");
        var bad = directory.Combine("bad.hcl");
        await File.WriteAllTextAsync(bad, """
            vault { address = "http://127.0.0.1:8200" }
            auto_auth {
              method "ldap" {
                config = {
                  password_file_path   = "/etc/gatehouse/ldap-password"
                  password_read_period = "-1s"
                  remove_password_after_readin = false
                }
              }
              sink "file" { config = { path = "/run/token" } }
            }
            """);
        var (code, stdout, stderr) = await Run("validate", $"-config={bad}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"{bad}:4:14: auto_auth.method \"ldap\": missing 'username' value", stderr, StringComparison.Ordinal);
        Assert.Contains($"{bad}:6:30: auto_auth.method \"ldap\".config.password_read_period: error parsing 'password_read_period' value into a positive value", stderr, StringComparison.Ordinal);
        Assert.Contains($"{bad}:7:7: auto_auth.method \"ldap\".config: unknown key \"remove_password_after_readin\"; did you mean remove_password_after_reading?", stderr, StringComparison.Ordinal);

        var good = directory.Combine("good.hcl");
        await File.WriteAllTextAsync(good, """
            vault { address = "http://127.0.0.1:8200" }
            auto_auth {
              method "ldap" {
                mount_path = "auth/corp-ldap"
                config = {
                  username                         = "svc-app"
                  password_file_path               = "/etc/gatehouse/ldap-password"
                  remove_password_after_reading    = false
                  remove_password_follows_symlinks = true
                  password_read_period             = "30s"
                }
              }
              sink "file" { config = { path = "/run/token" } }
            }
            """);
        var (goodCode, _, goodStderr) = await Run("validate", $"-config={good}");
        Assert.True(goodCode == 0, goodStderr);
    }

    [Fact]
    public async Task Validate_BadSinkModeAndMissingJwtRole_AreAllReportedWithTheirPositions()
    {
        using var directory = new TempDirectory("gatehouse-cli-");
        var file = directory.Combine("config.hcl");
        await File.WriteAllTextAsync(file, """
            vault { address = "http://127.0.0.1:8200" }
            auto_auth {
              method "jwt" {
                config = {
                  path            = "/var/run/jwt"
                  jwt_read_period = "0s"
                }
              }
              sink "file" {
                config = {
                  path = "/run/token"
                  mode = "rw-r-----"
                }
              }
            }
            """);
        var (code, stdout, stderr) = await Run("validate", $"-config={file}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"{file}:4:14: auto_auth.method \"jwt\": missing 'role' value", stderr, StringComparison.Ordinal);
        Assert.Contains($"{file}:6:25: auto_auth.method \"jwt\".config.jwt_read_period: jwt_read_period must be positive", stderr, StringComparison.Ordinal);
        Assert.Contains($"{file}:12:14: auto_auth.sink \"file\".config.mode: could not parse 'mode' as integer", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_BeatEnvironment_WhichBeatsTheFile()
    {
        Func<string, string?> env = n => n switch { "VAULT_ADDR" => "https://env:8200", "VAULT_NAMESPACE" => "env-ns", _ => null };

        var (code, stdout, _) = await Run(env, "validate", $"-config={Sample("seed.hcl")}", "-address=https://flag:8200",
            "-log-level", "debug", "-tls-skip-verify", "-exit-after-auth", "-log-rotate-duration=1h");

        Assert.Equal(0, code);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("https://flag:8200", (string?)json["vault"]!["address"]);
        Assert.Equal("env-ns", (string?)json["vault"]!["namespace"]);
        Assert.True((bool)json["vault"]!["tls_skip_verify"]!);
        Assert.Equal("debug", (string?)json["log_level"]);
        Assert.True((bool)json["exit_after_auth"]!);
        Assert.Equal("1h0m0s", (string?)json["log_rotate_duration"]);
    }

    /// <summary>
    /// Configurations that can never start, each for a reason visible in the files, the environment or the flags.
    /// The invariant: <c>validate</c> refuses each one, naming the place (<c>file:line:col</c>, or the variable or
    /// flag), and <c>proxy</c> refuses it with the very same words before starting anything.
    /// </summary>
    public static TheoryData<string, string, string, string> NeverStarts => new()
    {
        // name, config (PORT: a free port, DIR: a directory that exists), VAR=value or "", -flag=value or ""
        { "vault address not a URL", "vault {\n  address = \"not a url\"\n}\n" + TcpListener("127.0.0.1:0"), "", "" },
        { "VAULT_ADDR not a URL", TcpListener("127.0.0.1:0"), "VAULT_ADDR=:::", "" },
        { "-address not a URL", TcpListener("127.0.0.1:0"), "", "-address=:::" },
        { "unix listener with TLS on and no certificate", "listener \"unix\" {\n  address = \"DIR/g.sock\"\n  tls_key_file = \"DIR/k.pem\"\n}\n", "", "" },
        { "two listeners on one address", TcpListener("127.0.0.1:PORT") + TcpListener("127.0.0.1:PORT"), "", "" },
        { "port above 65535", TcpListener("127.0.0.1:70000"), "", "" },
        { "unknown socket_user", "listener \"unix\" {\n  address = \"DIR/g.sock\"\n  tls_disable = true\n  socket_user = \"no-such-user-gatehouse\"\n}\n", "", "" },
        { "unknown cipher suite", "listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_cert_file = \"DIR/c.pem\"\n  tls_key_file = \"DIR/k.pem\"\n  tls_cipher_suites = \"TLS_NO_SUCH_SUITE\"\n}\n", "", "" },
        { "log_rotate_bytes negative", "log_rotate_bytes = -5\n" + TcpListener("127.0.0.1:0"), "", "" },
        { "log_format unknown", "log_format = \"xml\"\n" + TcpListener("127.0.0.1:0"), "", "" },
        { "-log-rotate-bytes negative", TcpListener("127.0.0.1:0"), "", "-log-rotate-bytes=-5" },
    };

    private static string TcpListener(string address) => $"listener \"tcp\" {{\n  address = \"{address}\"\n  tls_disable = true\n}}\n";

    [Theory]
    [MemberData(nameof(NeverStarts))]
    public async Task ConfigThatCanNeverStart_IsRefusedByValidate_AtItsPlace_AndByProxy_WithTheSameWords(
        string name, string config, string variable, string flag)
    {
        if (OperatingSystem.IsWindows() && config.Contains("unix", StringComparison.Ordinal))
            return;
        using var dir = new TempDirectory("gatehouse-never-");
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        occupied.Stop();
        var file = Path.Combine(dir, "proxy.hcl");
        await File.WriteAllTextAsync(file, config.Replace("PORT", port, StringComparison.Ordinal).Replace("DIR", dir, StringComparison.Ordinal) + "api_proxy {}\n");
        Func<string, string?> env = n => variable.Length > 0 && n == variable[..variable.IndexOf('=', StringComparison.Ordinal)]
            ? variable[(variable.IndexOf('=', StringComparison.Ordinal) + 1)..] : null;
        string[] extra = flag.Length > 0 ? [flag] : [];

        // A safety net only: were the configuration to start after all, cancelling stops the daemon.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var validate = await RunWith(env, ["validate", $"-config={file}", .. extra], cancel.Token);
        var proxy = await RunWith(env, ["proxy", $"-config={file}", .. extra], cancel.Token);

        Assert.True(validate.Code == 1, $"{name}: validate accepted it");
        var problem = validate.Stderr.Split('\n')[0];
        Assert.Matches($"^({System.Text.RegularExpressions.Regex.Escape(file)}:[0-9]+:[0-9]+|environment variable [A-Z_]+|flag -[a-z-]+): ", problem);
        Assert.Contains("error validating configuration: 1 problem found; nothing was started", validate.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, proxy.Code);
        Assert.Equal(validate.Stderr, proxy.Stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunWith(Func<string, string?> env, string[] args, CancellationToken ct)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(args, stdout, stderr, env, ct);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("-bogus", "flag provided but not defined: -bogus")]
    [InlineData("-address", "flag needs an argument: -address")]
    [InlineData("-log-rotate-bytes=lots", "invalid value \"lots\" for flag -log-rotate-bytes")]
    [InlineData("stray", "unexpected argument \"stray\"")]
    public async Task UsageErrors_PrintTheErrorAndHelp_AndExitOne(string arg, string message)
    {
        var (code, _, stderr) = await Run("proxy", $"-config={Sample("seed.hcl")}", arg);

        Assert.Equal(1, code);
        Assert.StartsWith(message, stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: gatehouse proxy", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_PrintsToStdoutAndExitsZero()
    {
        var (code, stdout, _) = await Run("validate", "-help");

        Assert.Equal(0, code);
        Assert.Contains("Usage: gatehouse validate", stdout, StringComparison.Ordinal);
    }
}
