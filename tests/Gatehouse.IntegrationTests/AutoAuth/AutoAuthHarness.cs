using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hcl;
using Gatehouse.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// DevVault and Gatehouse's auto-auth + sinks, wired through AddAutoAuth/AddSinks exactly as the host wires them,
/// sharing one <see cref="FakeTimeProvider"/>. Tests read the auth loop's waits (the loop is then quiescent, its
/// timer armed) and advance the clock past them. No sleeps.
/// </summary>
internal sealed class AutoAuthHarness : IAsyncDisposable
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly Channel<AuthLoopWait> _waits = Channel.CreateUnbounded<AuthLoopWait>();
    private readonly Channel<string> _written = Channel.CreateUnbounded<string>();
    private readonly HttpClient _root;
    private readonly System.Diagnostics.Metrics.MeterListener _meters = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _measurements = new(StringComparer.Ordinal);
    private ServiceProvider? _services;
    private List<IHostedService> _hosted = [];

    private AutoAuthHarness(DevVaultServer server, FakeTimeProvider time, TempDirectory dir)
    {
        Server = server;
        Time = time;
        _dir = dir;
        _root = new HttpClient(Insecure()) { BaseAddress = server.Address };
        _root.DefaultRequestHeaders.Add("X-Vault-Token", server.RootToken);
    }

    public DevVaultServer Server { get; }

    public FakeTimeProvider Time { get; }

    private readonly TempDirectory _dir;

    public string Dir => _dir.Path;

    public FakeLogCollector Logs { get; } = new();

    public TokenStore Store => _services!.GetRequiredService<TokenStore>();

    public AutoAuthExit Exit => _services!.GetRequiredService<AutoAuthExit>();

    public static async Task<AutoAuthHarness> StartVaultAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? tls = null)
    {
        // Real "now", so certificates and JWTs made by the tests are valid on DevVault's clock.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time, TlsCertificate = tls });
        return new AutoAuthHarness(server, time, new TempDirectory("gatehouse-autoauth-"));
    }

    // The test's own client trusts DevVault's throwaway certificate.
    private static HttpClientHandler Insecure() => new() { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };

    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>A request to DevVault as root (setup and checks).</summary>
    public async Task<JsonNode?> RootAsync(HttpMethod method, string path, object? body = null, string? token = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, "/v1/" + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (token is not null)
        {
            request.Headers.Remove("X-Vault-Token");
            request.Headers.Add("X-Vault-Token", token);
        }

        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(key, value);
        }

        using var response = await _root.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Status of a request made with <paramref name="token"/> (e.g. lookup-self to prove a token works).</summary>
    public async Task<int> StatusWithTokenAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/" + path);
        request.Headers.Add("X-Vault-Token", token);
        using var http = new HttpClient(Insecure()) { BaseAddress = Server.Address };
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>Enables approle and creates role "app"; writes role_id/secret_id files; returns the secret ID.</summary>
    public async Task<(string RoleId, string SecretId)> SetUpAppRoleAsync(string tokenTtl = "1h", string? tokenMaxTtl = null, bool writeSecretFile = true)
    {
        await RootAsync(HttpMethod.Post, "sys/auth/approle", new { type = "approle" });
        await RootAsync(HttpMethod.Post, "auth/approle/role/app", tokenMaxTtl is null
            ? new { token_ttl = tokenTtl, token_policies = new[] { "default" } }
            : (object)new { token_ttl = tokenTtl, token_max_ttl = tokenMaxTtl, token_policies = new[] { "default" } });
        var roleId = (await RootAsync(HttpMethod.Get, "auth/approle/role/app/role-id"))!["data"]!["role_id"]!.ToString();
        var secretId = (await RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id"))!["data"]!["secret_id"]!.ToString();
        await File.WriteAllTextAsync(PathOf("role_id"), roleId + "\n");
        if (writeSecretFile)
        {
            await File.WriteAllTextAsync(PathOf("secret_id"), secretId);
        }

        return (roleId, secretId);
    }

    public static ConfigMap Map(params (string Key, object Value)[] values) => new(
        values.ToImmutableDictionary(v => v.Key, v => v.Value switch
        {
            bool b => (HclNode)new HclBool(b, default),
            int i => new HclNumber(i.ToString(System.Globalization.CultureInfo.InvariantCulture), i, i, default),
            _ => new HclString(v.Value.ToString()!, default),
        }),
        default);

    public GatehouseConfig Config(AuthMethodConfig method, params SinkConfig[] sinks) => new()
    {
        Vault = new VaultConfig { Address = Server.Address.ToString() },
        AutoAuth = new AutoAuthConfig { Method = method, Sinks = sinks },
    };

    public SinkConfig FileSink(string name, int mode = 0b110_100_000) =>
        new() { Type = "file", Config = Map(("path", PathOf(name)), ("mode", mode)) };

    /// <summary>Builds the services as the host does, hooks the test signals, and starts the hosted loops.</summary>
    public async Task StartGatehouseAsync(GatehouseConfig config)
    {
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)))
            .AddSingleton<TimeProvider>(Time)
            .AddMetrics()
            .AddAutoAuth(config)
            .AddSinks(config);
        _services = services.BuildServiceProvider();

        // This harness's meter only: parallel tests create "Gatehouse" meters of their own.
        var factory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == factory)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => _measurements.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        _meters.Start();
        var handler = _services.GetRequiredService<AuthHandler>();
        handler.Waiting += wait => _waits.Writer.TryWrite(wait);
        foreach (var writer in _services.GetRequiredService<SinkServer>().Writers)
        {
            writer.Written += (sink, token) => _written.Writer.TryWrite(sink.Name);
        }

        _hosted = [.. _services.GetServices<IHostedService>()];
        foreach (var hosted in _hosted)
        {
            await hosted.StartAsync(CancellationToken.None);
        }
    }

    /// <summary>The total recorded so far on a counter of this harness's meter (read with a MeterListener).</summary>
    public long Measured(string instrument) => _measurements.GetValueOrDefault(instrument);

    public async Task<AuthLoopWait> NextWaitAsync()
    {
        try
        {
            return await _waits.Reader.ReadAsync().AsTask().WaitAsync(Hang);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException("the auth loop did not reach a wait; logs:\n" + AllLogText(), e);
        }
    }

    public async Task<AuthLoopWait> ElapseAsync(AuthWaitReason expected)
    {
        var wait = await NextWaitAsync();
        Assert.Equal(expected, wait.Reason);
        Time.Advance(wait.Delay);
        return wait;
    }

    /// <summary>Waits until a sink reports a write (the name of the sink).</summary>
    public async Task<string> NextSinkWriteAsync() => await _written.Reader.ReadAsync().AsTask().WaitAsync(Hang);

    public string AllLogText() => string.Join("\n", Logs.GetSnapshot().Select(r =>
        $"{r.Level} {r.Category} {r.Message} {r.Exception} {string.Join(",", r.StructuredState?.Select(kv => kv.Value) ?? [])}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var hosted in _hosted.AsEnumerable().Reverse())
        {
            await hosted.StopAsync(CancellationToken.None).WaitAsync(Hang);
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _meters.Dispose();
        _root.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}
