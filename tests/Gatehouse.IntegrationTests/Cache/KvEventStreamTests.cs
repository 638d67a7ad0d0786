using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Cache.Static;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.AutoAuth;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// <see cref="KvEventSubscriber"/> against DevVault's event stream emulation, with real auto-auth (token_file) and
/// real WebSockets on loopback, on one fake clock. A recording <see cref="IKvChangeListener"/> stands in for the static
/// secret cache: every wait is on what it records or on the subscriber's own wait signal, never on time.
/// </summary>
public sealed class KvEventStreamTests
{
    private const string LimitedPolicy = """
path "sys/events/subscribe/kv*" { capabilities = ["read"] }
path "secret/data/app/*" {
  capabilities = ["read", "subscribe"]
  subscribe_event_types = ["kv*"]
}
path "secret/metadata/app/*" {
  capabilities = ["read", "subscribe"]
  subscribe_event_types = ["kv*"]
}
path "kv1/app/*" {
  capabilities = ["read", "subscribe"]
  subscribe_event_types = ["kv-v1/*"]
}
path "secret/data/other/*" { capabilities = ["read"] }
""";

    [Fact]
    public async Task KvEventStream_EveryKvOperation_ReachesTheListenerAsTheSecretsPath()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("up", await h.NextAsync());

        // (request, the path KvChanged names)
        (Func<Task> Send, string Path)[] steps =
        [
            (() => h.RootAsync(HttpMethod.Put, "kv1/app", new { a = "1" }), "kv1/app"),
            (() => h.RootAsync(HttpMethod.Delete, "kv1/app"), "kv1/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/data/app", new { data = new { a = "1" } }), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Delete, "secret/data/app"), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/undelete/app", new { versions = new[] { 1 } }), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/delete/app", new { versions = new[] { 1 } }), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/destroy/app", new { versions = new[] { 1 } }), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/metadata/app", new { max_versions = 3 }), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Delete, "secret/metadata/app"), "secret/data/app"),
            (() => h.RootAsync(HttpMethod.Put, "secret/config", new { max_versions = 5 }), "secret/config"),
        ];
        foreach (var (send, path) in steps)
        {
            await send();
            Assert.Equal("changed  " + path, await h.NextAsync());
        }
    }

    [Fact]
    public async Task KvEventStream_TokenWithoutSubscribeRights_HearsOnlyOfPathsItMaySee()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        var token = await h.LimitedTokenAsync();
        await h.StartGatehouseAsync(token);
        Assert.Equal("up", await h.NextAsync());

        // Readable but no subscribe; no rule at all; a delete (Vault sends deletes without data_path, which only root
        // tokens receive); then the writes this token may hear of. The listener sees them in order, and only them.
        await h.RootAsync(HttpMethod.Put, "secret/data/other/x", new { data = new { a = "1" } });
        await h.RootAsync(HttpMethod.Put, "secret/data/elsewhere", new { data = new { a = "1" } });
        await h.RootAsync(HttpMethod.Put, "kv1/elsewhere", new { a = "1" });
        await h.RootAsync(HttpMethod.Put, "secret/data/app/x", new { data = new { a = "1" } });
        await h.RootAsync(HttpMethod.Delete, "secret/data/app/x");
        await h.RootAsync(HttpMethod.Put, "secret/metadata/app/x", new { max_versions = 2 });
        await h.RootAsync(HttpMethod.Put, "kv1/app/y", new { a = "1" });

        Assert.Equal("changed  secret/data/app/x", await h.NextAsync());
        Assert.Equal("changed  secret/data/app/x", await h.NextAsync());
        Assert.Equal("changed  kv1/app/y", await h.NextAsync());
        Assert.DoesNotContain(token, h.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KvEventStream_DroppedStream_ReportsDownThenReconnectsWhenTheClockAdvances()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("up", await h.NextAsync());

        h.Vault.Faults.DropEventStreams();
        Assert.Equal("down", await h.NextAsync());
        var wait = await h.NextWaitAsync();
        Assert.Equal(KvEventSubscriber.MinBackoff, wait);
        Assert.Equal(0, h.Vault.EventSubscriberCount);

        h.Time.Advance(wait);
        Assert.Equal("up", await h.NextAsync());
        await h.RootAsync(HttpMethod.Put, "secret/data/app", new { data = new { a = "2" } });
        Assert.Equal("changed  secret/data/app", await h.NextAsync());
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberLost);
    }

    [Fact]
    public async Task KvEventStream_VaultUnreachable_BacksOffExponentiallyUpToTheCap()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("up", await h.NextAsync());

        h.Vault.Faults.DropConnections = true;
        h.Vault.Faults.DropEventStreams();
        Assert.Equal("down", await h.NextAsync());
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            waits.Add(await h.NextWaitAsync());
            if (i < 9)
            {
                h.Time.Advance(waits[^1]);
            }
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 120, 120, 120], waits.Select(w => w.TotalSeconds));
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberConnectFailed);

        // The tenth wait is armed: the next attempt starts only when the clock passes it, with Vault reachable again.
        h.Vault.Faults.DropConnections = false;
        h.Time.Advance(waits[^1]);
        Assert.Equal("up", await h.NextAsync());
    }

    [Fact]
    public async Task KvEventStream_VaultWithoutEvents_LogsOneLineAndAsksAgainEveryFiveMinutes()
    {
        await using var h = await Harness.StartAsync(eventStream: false);
        await h.StartGatehouseAsync(h.Vault.RootToken);

        for (var i = 0; i < 3; i++)
        {
            var wait = await h.NextWaitAsync();
            Assert.Equal(KvEventSubscriber.UnavailableRetry, wait);
            h.Time.Advance(wait);
        }

        var line = Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberUnavailable);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("event stream not available (Vault answered 404", line.Message, StringComparison.Ordinal);
        Assert.Contains("freshness relies on static_secret_refresh_interval", line.Message, StringComparison.Ordinal);
        Assert.True(h.NoListenerCalls, "the listener heard of a stream that never came up");
        // One attempt before each wait: the three waits followed three refused subscriptions.
        Assert.True(h.Vault.Faults.CountRequests("GET", "/v1/sys/events/subscribe/") >= 3);
    }

    [Fact]
    public async Task KvEventStream_TokenWithoutReadOnTheSubscribePath_IsUnavailableNotAnError()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        await h.RootAsync(HttpMethod.Put, "sys/policies/acl/reader", new { policy = """path "secret/*" { capabilities = ["read", "subscribe"] }""" });
        var token = (await h.RootAsync(HttpMethod.Post, "auth/token/create", new { policies = new[] { "reader" } }))!["auth"]!["client_token"]!.ToString();
        await h.StartGatehouseAsync(token);

        Assert.Equal(KvEventSubscriber.UnavailableRetry, await h.NextWaitAsync());
        var line = Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberUnavailable);
        Assert.Contains("Vault answered 403", line.Message, StringComparison.Ordinal);
        Assert.True(h.NoListenerCalls);
    }

    [Fact]
    public async Task KvEventStream_NewAutoAuthToken_ReconnectsWithIt()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("up", await h.NextAsync());

        // The auth loop publishes a new token (a re-login): the stream reconnects at once, on the new token's rights.
        var limited = await h.LimitedTokenAsync();
        h.Store.Publish(new AutoAuthToken(limited, null, h.Time.GetUtcNow(), TimeSpan.FromHours(1), true));
        Assert.Equal("down", await h.NextAsync());
        Assert.Equal("up", await h.NextAsync());

        await h.RootAsync(HttpMethod.Put, "secret/data/elsewhere", new { data = new { a = "1" } });
        await h.RootAsync(HttpMethod.Put, "secret/data/app/z", new { data = new { a = "1" } });
        Assert.Equal("changed  secret/data/app/z", await h.NextAsync());
        Assert.DoesNotContain(limited, h.AllLogText(), StringComparison.Ordinal);
        Assert.DoesNotContain(h.Vault.RootToken, h.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KvEventStream_OverTls_UsesTheVaultStanzasCa()
    {
        await using var h = await Harness.StartAsync(eventStream: true, TestCertificates.Create());
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("https", h.Vault.Address.Scheme);
        Assert.Equal("up", await h.NextAsync());

        await h.RootAsync(HttpMethod.Put, "secret/data/app", new { data = new { a = "1" } });
        Assert.Equal("changed  secret/data/app", await h.NextAsync());
    }

    [Fact]
    public async Task KvEventStream_OverTlsWithoutTheCa_RefusesVaultsCertificate()
    {
        await using var h = await Harness.StartAsync(eventStream: true, TestCertificates.Create());
        await h.StartGatehouseAsync(h.Vault.RootToken, trustCa: false);
        // Auto-auth cannot log in either (same vault stanza): hand the subscriber a token as the auth loop would.
        h.Store.Publish(new AutoAuthToken(h.Vault.RootToken, null, h.Time.GetUtcNow(), null, false));

        Assert.Equal(KvEventSubscriber.MinBackoff, await h.NextWaitAsync());
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberConnectFailed);
        Assert.True(h.NoListenerCalls);
    }

    [Fact]
    public async Task KvEventStream_ListenerThatThrows_KeepsTheStream()
    {
        await using var h = await Harness.StartAsync(eventStream: true);
        h.FailOn = "secret/data/bad";
        await h.StartGatehouseAsync(h.Vault.RootToken);
        Assert.Equal("up", await h.NextAsync());

        await h.RootAsync(HttpMethod.Put, "secret/data/bad", new { data = new { a = "1" } });
        await h.RootAsync(HttpMethod.Put, "secret/data/good", new { data = new { a = "1" } });

        Assert.Equal("changed  secret/data/good", await h.NextAsync());
        var line = Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == LogEvents.KvEventSubscriberListenerFailed);
        Assert.IsType<InvalidOperationException>(line.Exception);
        Assert.Equal(1, h.Vault.EventSubscriberCount);
    }

    [Fact]
    public void AddKvEventSubscriber_WithoutStaticCachingOrAutoAuth_RegistersNothing()
    {
        var vault = new VaultConfig { Address = "http://127.0.0.1:8200" };
        var autoAuth = new AutoAuthConfig { Method = new AuthMethodConfig { Type = "token_file", Config = AutoAuthHarness.Map(("token_file_path", "/x")) } };
        GatehouseConfig[] configs =
        [
            new() { Vault = vault, AutoAuth = autoAuth },
            new() { Vault = vault, AutoAuth = autoAuth, Cache = new CacheConfig() },
            new() { Vault = vault, Cache = new CacheConfig { CacheStaticSecrets = true } },
        ];
        foreach (var config in configs)
        {
            Assert.DoesNotContain(new ServiceCollection().AddKvEventSubscriber(config), d => d.ServiceType == typeof(IHostedService));
        }

        var on = new ServiceCollection().AddKvEventSubscriber(new GatehouseConfig { Vault = vault, AutoAuth = autoAuth, Cache = new CacheConfig { CacheStaticSecrets = true } });
        Assert.Contains(on, d => d.ServiceType == typeof(IHostedService));
    }

    /// <summary>DevVault (KV v2 at secret/, KV v1 at kv1/) and Gatehouse's auto-auth + the subscriber, wired as the host does.</summary>
    private sealed class Harness : IAsyncDisposable, IKvChangeListener
    {
        public static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

        private readonly Channel<string> _heard = Channel.CreateUnbounded<string>();
        private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();
        private readonly HttpClient _root;
        private readonly TempDirectory _dir = new("gatehouse-events-");
        private ServiceProvider? _services;
        private List<IHostedService> _hosted = [];
        private int _calls;

        private Harness(DevVaultServer vault, FakeTimeProvider time, TestCertificates? tls)
        {
            Vault = vault;
            Time = time;
            _tls = tls;
            _root = tls?.CreateClient(vault.Address, presentClientCertificate: false) ?? new HttpClient { BaseAddress = vault.Address };
            _root.DefaultRequestHeaders.Add("X-Vault-Token", vault.RootToken);
        }

        private readonly TestCertificates? _tls;

        public DevVaultServer Vault { get; }

        public FakeTimeProvider Time { get; }

        public FakeLogCollector Logs { get; } = new();

        public TokenStore Store => _services!.GetRequiredService<TokenStore>();

        public bool NoListenerCalls => Volatile.Read(ref _calls) == 0;

        /// <param name="tls">Serve DevVault over TLS with this server certificate (its CA is not trusted by default).</param>
        public static async Task<Harness> StartAsync(bool eventStream, TestCertificates? tls = null)
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var vault = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time, EventStream = eventStream, TlsCertificate = tls?.Server });
            var harness = new Harness(vault, time, tls);
            await harness.RootAsync(HttpMethod.Post, "sys/mounts/kv1", new { type = "kv" });
            return harness;
        }

        public async Task<string> LimitedTokenAsync()
        {
            await RootAsync(HttpMethod.Put, "sys/policies/acl/events", new { policy = LimitedPolicy });
            return (await RootAsync(HttpMethod.Post, "auth/token/create", new { policies = new[] { "events" } }))!["auth"]!["client_token"]!.ToString();
        }

        /// <summary>
        /// Starts auto-auth (token_file with <paramref name="token"/>) and the subscriber, as the host wires them. Over
        /// TLS the vault stanza trusts the test CA unless <paramref name="trustCa"/> is false.
        /// </summary>
        public async Task StartGatehouseAsync(string token, bool trustCa = true)
        {
            var tokenFile = _dir.Combine("token");
            await File.WriteAllTextAsync(tokenFile, token);
            var config = new GatehouseConfig
            {
                Vault = new VaultConfig { Address = Vault.Address.ToString(), CaCert = _tls is not null && trustCa ? _tls.CaFile : null },
                AutoAuth = new AutoAuthConfig { Method = new AuthMethodConfig { Type = "token_file", Config = AutoAuthHarness.Map(("token_file_path", tokenFile)) } },
                Cache = new CacheConfig { CacheStaticSecrets = true },
            };
            _services = new ServiceCollection()
                .AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)))
                .AddSingleton<TimeProvider>(Time)
                .AddMetrics()
                .AddAutoAuth(config)
                .AddSingleton<IKvChangeListener>(this)
                .AddKvEventSubscriber(config, random: () => 0)
                .BuildServiceProvider();
            _services.GetRequiredService<KvEventSubscriber>().Waiting += wait => _waits.Writer.TryWrite(wait);
            _hosted = [.. _services.GetServices<IHostedService>()];
            foreach (var hosted in _hosted)
            {
                await hosted.StartAsync(CancellationToken.None);
            }
        }

        public async Task<JsonNode?> RootAsync(HttpMethod method, string path, object? body = null)
        {
            using var request = new HttpRequestMessage(method, "/v1/" + path);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            using var response = await _root.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }

        /// <summary>The next thing the listener heard: "up", "down" or "changed {ns} {path}".</summary>
        public async Task<string> NextAsync()
        {
            try
            {
                return await _heard.Reader.ReadAsync().AsTask().WaitAsync(Hang);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException("the listener heard nothing; logs:\n" + AllLogText(), e);
            }
        }

        /// <summary>The next wait the subscriber started (its timer is armed on the fake clock when this returns).</summary>
        public async Task<TimeSpan> NextWaitAsync()
        {
            try
            {
                return await _waits.Reader.ReadAsync().AsTask().WaitAsync(Hang);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException("the subscriber did not wait; logs:\n" + AllLogText(), e);
            }
        }

        public string AllLogText() => string.Join("\n", Logs.GetSnapshot().Select(r => $"{r.Level} {r.Id} {r.Message} {r.Exception}"));

        /// <summary>KvChanged throws for this path (a listener with a bug).</summary>
        public string? FailOn { get; set; }

        public void KvChanged(string namespacePath, string path)
        {
            Interlocked.Increment(ref _calls);
            if (path == FailOn)
            {
                throw new InvalidOperationException("listener bug");
            }

            _heard.Writer.TryWrite($"changed {namespacePath} {path}");
        }

        public void StreamStateChanged(bool up)
        {
            Interlocked.Increment(ref _calls);
            _heard.Writer.TryWrite(up ? "up" : "down");
        }

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

            _root.Dispose();
            await Vault.DisposeAsync();
            _dir.Dispose();
            _tls?.Dispose();
        }
    }
}
