using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Gatehouse.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// DevVault (leased KV, approle role "app") and the real Gatehouse host started from an HCL file through
/// <see cref="ConfigLoader"/>, exactly as <c>gatehouse proxy -config=…</c> does, with a reload delegate that reads the
/// same file again. Both share one <see cref="FakeTimeProvider"/>. Every log line Gatehouse writes (console and
/// log file) is captured.
/// </summary>
internal sealed class OpsHarness : IAsyncDisposable
{
    /// <summary>A safety net so a hung wait fails the test instead of hanging it; not a timing assertion.</summary>
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly CapturingWriter _console = new();
    private readonly Channel<AuthLoopWait> _authWaits = Channel.CreateUnbounded<AuthLoopWait>();

    private OpsHarness(DevVaultServer vault, FakeTimeProvider time, TempDirectory dir)
    {
        Vault = vault;
        Time = time;
        _dir = dir;
        Root = new HttpClient { BaseAddress = vault.Address };
        Root.DefaultRequestHeaders.Add("X-Vault-Token", vault.RootToken);
    }

    public DevVaultServer Vault { get; }

    public FakeTimeProvider Time { get; }

    private readonly TempDirectory _dir;

    public string Dir => _dir.Path;

    public string ConfigPath => Path.Combine(Dir, "gatehouse.hcl");

    public GatehouseHost Host { get; private set; } = null!;

    /// <summary>Listener 0 (API proxy).</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Talks to DevVault directly with the root token.</summary>
    public HttpClient Root { get; }

    public string RoleId { get; private set; } = "";

    public string SecretId { get; private set; } = "";

    /// <param name="leasedKv">True: <c>secret/</c> is a leased KV v1 mount holding <c>secret/db</c>; false: DevVault's default KV v2.</param>
    /// <param name="eventStream">DevVault emulates Vault Enterprise's event stream (<see cref="DevVaultOptions.EventStream"/>).</param>
    public static async Task<OpsHarness> StartVaultAsync(bool leasedKv = true, bool eventStream = false)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var vault = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time, LeasedKv = leasedKv, EventStream = eventStream });
        var h = new OpsHarness(vault, time, new TempDirectory("gatehouse-ops-"));
        await h.RootAsync(HttpMethod.Post, "sys/auth/approle", new { type = "approle" });
        await h.RootAsync(HttpMethod.Put, "sys/policies/acl/all", new { policy = "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }" });
        await h.RootAsync(HttpMethod.Post, "auth/approle/role/app", new { token_ttl = "1h", token_max_ttl = "24h", token_policies = new[] { "all" } });
        h.RoleId = (await h.RootAsync(HttpMethod.Get, "auth/approle/role/app/role-id"))!["data"]!["role_id"]!.ToString();
        h.SecretId = (await h.RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id"))!["data"]!["secret_id"]!.ToString();
        await File.WriteAllTextAsync(h.PathOf("role_id"), h.RoleId);
        if (leasedKv)
        {
            await h.RootAsync(HttpMethod.Put, "secret/db", new { password = "s3cret-db-password", ttl = "30m" });
        }

        return h;
    }

    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>
    /// The HCL for a typical deployment: approle auto-auth with a file sink, the auto-auth token for token-less
    /// requests, a cache, telemetry, an API listener and a metrics_only listener. <paramref name="extra"/> is appended.
    /// </summary>
    public string Hcl(string logLevel = "info", bool cache = true, string extra = "", string apiListener = "", string method = "") => $$"""
        log_level = "{{logLevel}}"
        vault {
          address = "{{Vault.Address}}"
          retry {
            num_retries = -1
          }
        }
        auto_auth {
          method "approle" {
            config = {
              role_id_file_path   = "{{PathOf("role_id")}}"
              secret_id_file_path = "{{PathOf("secret_id")}}"
              {{method}}
            }
          }
          sink "file" {
            config = {
              path = "{{PathOf("token-sink")}}"
            }
          }
        }
        api_proxy {
          use_auto_auth_token = true
        }
        {{(cache ? "cache {\n}" : "")}}
        {{(apiListener.Length > 0 ? apiListener : "listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}")}}
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
          role        = "metrics_only"
        }
        telemetry {
          disable_hostname = true
        }
        {{extra}}
        """;

    /// <summary>
    /// The HCL for one auth method at trace level: <c>method "<paramref name="method"/>"</c> with <paramref name="config"/>
    /// as its config map, a file sink (<c>token-sink</c>), <paramref name="autoAuthExtra"/> in auto_auth, the auto-auth
    /// token for token-less requests and one API listener.
    /// </summary>
    public string MethodHcl(string method, string config, string autoAuthExtra = "") => $$"""
        log_level = "trace"
        vault {
          address = "{{Vault.Address}}"
        }
        auto_auth {
          method "{{method}}" {
            config = {
              {{config}}
            }
          }
          sink "file" {
            config = {
              path = "{{PathOf("token-sink")}}"
            }
          }
          {{autoAuthExtra}}
        }
        api_proxy {
          use_auto_auth_token = true
        }
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
        }
        """;

    /// <summary>
    /// Writes <paramref name="hcl"/> as the config file, loads it like the CLI and starts the host. A token-less request
    /// waits <paramref name="firstTokenWait"/> (default 5 s on the fake clock) for auto-auth's first token.
    /// </summary>
    public async Task StartGatehouseAsync(string hcl, TimeSpan? firstTokenWait = null, Action<IServiceCollection>? configureServices = null)
    {
        await File.WriteAllTextAsync(ConfigPath, hcl);
        var loaded = Load();
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics.Select(d => d.ToDisplayString())));
        Host = await GatehouseHost.StartAsync(loaded.Config!, new GatehouseHostOptions
        {
            TimeProvider = Time,
            LogConsole = _console,
            Reload = Load,
            ApiProxy = new ApiProxyOptions { RetryJitter = () => 0, FirstTokenWait = firstTokenWait ?? TimeSpan.FromSeconds(5) },

            // Registered before the auth loop's own hosted service, so it subscribes before the loop's first wait.
            ConfigureServices = services =>
            {
                services.AddHostedService(sp => new AuthWaitTap(sp, _authWaits.Writer));
                configureServices?.Invoke(services);
            },
        });
        var address = Host.Addresses[0].Address;
        Client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = address };
    }

    /// <summary>Stops Gatehouse (as SIGTERM would); DevVault keeps running. <see cref="StartGatehouseAsync"/> starts it again.</summary>
    public async Task StopGatehouseAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        Client = null!;
        Host = null!;
        while (_authWaits.Reader.TryRead(out _))
        {
            // Waits of the stopped host's loop; the next host's loop reports its own.
        }
    }

    public ConfigLoadResult Load() => ConfigLoader.Load([ConfigPath], _ => null);

    /// <summary>A client for listener <paramref name="index"/> (1 is the metrics_only one).</summary>
    public HttpClient ClientFor(int index) => new() { BaseAddress = Host.Addresses[index].Address };

    /// <summary>Everything Gatehouse logged to the console so far.</summary>
    public string ConsoleLog => _console.ToString();

    /// <summary>Fails if the console log holds any of <paramref name="secrets"/>, or a request signature.</summary>
    public void AssertLogNeverShows(IEnumerable<string?> secrets)
    {
        var log = ConsoleLog;
        foreach (var secret in secrets.OfType<string>())
        {
            Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Signature=", log, StringComparison.Ordinal);
    }

    /// <summary>Services that give auto-auth exactly these environment variables (nothing else from the process's).</summary>
    public static Action<IServiceCollection> WithEnvironment(params (string Name, string Value)[] variables) =>
        services => services.AddSingleton(new AutoAuthEnvironment(name => variables.FirstOrDefault(v => v.Name == name).Value));

    /// <summary>Waits (bounded) until Gatehouse has logged <paramref name="fragment"/> to the console (that many times).</summary>
    public Task WaitForLogAsync(string fragment, int occurrences = 1) => _console.WaitForAsync(fragment, Hang, occurrences);

    public async Task<JsonNode?> RootAsync(HttpMethod method, string path, object? body = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, "/v1/" + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(key, value);
        }

        using var response = await Root.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Sends through Gatehouse (listener 0); <paramref name="token"/> null means "use the auto-auth token".</summary>
    public async Task<(int Status, string Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? token = null, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        var response = await Client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>
    /// The next wait the auth loop enters (its timer is then armed), bounded by a safety timeout. Advance
    /// <see cref="Time"/> by its delay to release exactly that wait.
    /// </summary>
    public async Task<AuthLoopWait> NextAuthWaitAsync()
    {
        try
        {
            return await _authWaits.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the auth loop did not reach a wait; log:\n{ConsoleLog}", e);
        }
    }

    /// <summary>Completes when every sink has written the first token (at once if it already has).</summary>
    public Task FirstSinkWriteAsync() => Host.Services.GetRequiredService<SinkServer>().FirstTokenWritten.WaitAsync(Hang);

    /// <summary>Completes when DevVault has received <paramref name="count"/> requests matching method and path prefix.</summary>
    public Task VaultRequestsAsync(string method, string pathPrefix, long count = 1) =>
        Vault.Faults.WaitForRequestsAsync(method, pathPrefix, count).WaitAsync(Hang);

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        Root.Dispose();
        await Vault.DisposeAsync();
        try
        {
            _dir.Dispose();
        }
        catch (IOException)
        {
            // A log file still open on a slow stop; the temp directory is harmless.
        }
    }

    /// <summary>Hands every wait of the host's auth loop (if auto-auth is configured) to the harness.</summary>
    private sealed class AuthWaitTap(IServiceProvider services, ChannelWriter<AuthLoopWait> waits) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (services.GetService<AuthHandler>() is { } handler)
            {
                handler.Waiting += wait => waits.TryWrite(wait);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
