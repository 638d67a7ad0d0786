using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static Gatehouse.IntegrationTests.AutoAuth.AutoAuthHarness;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The auto-auth token restored from the persistent cache (Vault's "preloaded token"), end to end: the real host with
/// <c>persist "file"</c> and approle auto-auth is stopped and a second host starts over the same store while DevVault
/// keeps running.
/// </summary>
public sealed class PreloadedTokenEndToEndTests
{
    private const string Login = "/v1/auth/approle/login";
    private const string LookupSelf = "/v1/auth/token/lookup-self";
    private const string RenewSelf = "/v1/auth/token/renew-self";

    [Fact]
    public async Task PreloadedToken_StillValid_IsAdoptedRenewedAndWrittenWithoutANewLogin()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h");
        var config = Config(h);

        string token;
        await using (var first = await TestHost.StartAsync(h, config))
        {
            Assert.Equal(AuthWaitReason.Renewal, (await first.NextWaitAsync()).Reason);
            await first.NextSinkWriteAsync();
            token = first.Store.Current!.Token;
        }

        File.Delete(h.PathOf("token"));
        await using var second = await TestHost.StartAsync(h, config);
        var wait = await second.NextWaitAsync();
        await second.NextSinkWriteAsync();

        // Adopted after one lookup-self: same token, no second login, TTL from the lookup, published to the sink.
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(1, h.Server.Faults.CountRequests("GET", LookupSelf));
        Assert.Equal(token, second.Store.Current!.Token);
        Assert.True(second.Store.Current.Renewable);
        Assert.Equal(TimeSpan.FromHours(1), second.Store.Current.Ttl);
        Assert.Equal(token, await File.ReadAllTextAsync(h.PathOf("token")));
        Assert.Equal(1, second.Successes);
        Assert.Equal(0, second.Failures);

        // And kept alive with renew-self on the usual schedule.
        h.Time.Advance(wait.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await second.NextWaitAsync()).Reason);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(token, second.Store.Current!.Token);
    }

    [Fact]
    public async Task PreloadedToken_RevokedAtVault_BacksOffOnceThenLogsInAfresh()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h");
        var config = Config(h);

        string token;
        await using (var first = await TestHost.StartAsync(h, config))
        {
            await first.NextWaitAsync();
            await first.NextSinkWriteAsync();
            token = first.Store.Current!.Token;
        }

        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token });
        await using var second = await TestHost.StartAsync(h, config);

        // lookup-self is refused: one backoff (min_backoff 1s less up to 25% jitter), no login yet.
        var backoff = await second.NextWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        Assert.InRange(backoff.Delay, TimeSpan.FromSeconds(0.75), TimeSpan.FromSeconds(1));
        Assert.Equal(1, h.Server.Faults.CountRequests("GET", LookupSelf));
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Null(second.Store.Current);
        Assert.Equal(1, second.Failures);
        Assert.Contains("restored from the persistent cache cannot be used", string.Join("\n", h.Logs.GetSnapshot().Select(r => r.Message)), StringComparison.Ordinal);

        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await second.NextWaitAsync()).Reason);
        await second.NextSinkWriteAsync();
        Assert.Equal(2, h.Server.Faults.CountRequests("PUT", Login));
        var fresh = second.Store.Current!.Token;
        Assert.NotEqual(token, fresh);
        Assert.Equal(fresh, await File.ReadAllTextAsync(h.PathOf("token")));
        Assert.Equal(200, await h.StatusWithTokenAsync("auth/token/lookup-self", fresh));
    }

    private static GatehouseConfig Config(AutoAuthHarness h)
    {
        var key = h.PathOf("cache.key");
        File.WriteAllText(key, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var method = new AuthMethodConfig
        {
            Type = "approle",
            Config = Map(("role_id_file_path", h.PathOf("role_id")), ("secret_id_file_path", h.PathOf("secret_id")), ("remove_secret_id_file_after_reading", false)),
        };
        return h.Config(method, h.FileSink("token")) with
        {
            Vault = new VaultConfig { Address = h.Server.Address.ToString().TrimEnd('/'), NumRetries = -1 },
            ApiProxy = new ApiProxyConfig(),
            Cache = new CacheConfig { Persist = new PersistConfig { Type = "file", Path = h.PathOf("store"), KeyFile = key } },
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
    }

    /// <summary>
    /// The real <see cref="GatehouseHost"/> with the auth loop's waits and the sinks' writes observed: a hosted
    /// service registered ahead of auto-auth subscribes before the loop starts, so no wait is missed.
    /// </summary>
    private sealed class TestHost : IAsyncDisposable
    {
        private readonly Channel<AuthLoopWait> _waits = Channel.CreateUnbounded<AuthLoopWait>();
        private readonly Channel<string> _written = Channel.CreateUnbounded<string>();
        private readonly MeterListener _meters = new();
        private GatehouseHost? _host;
        private long _successes;
        private long _failures;

        public TokenStore Store => _host!.TokenStore;

        public long Successes => Interlocked.Read(ref _successes);

        public long Failures => Interlocked.Read(ref _failures);

        public static async Task<TestHost> StartAsync(AutoAuthHarness harness, GatehouseConfig config)
        {
            var test = new TestHost();
            test._host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions
            {
                TimeProvider = harness.Time,
                LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(harness.Logs))),
                ConfigureServices = services => services.AddSingleton<IHostedService>(sp => new Hook(sp, test)),
            });
            return test;
        }

        public Task<AuthLoopWait> NextWaitAsync() => _waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        public Task<string> NextSinkWriteAsync() => _written.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        public async ValueTask DisposeAsync()
        {
            if (_host is not null)
            {
                await _host.DisposeAsync();
            }

            _meters.Dispose();
        }

        private sealed class Hook(IServiceProvider services, TestHost test) : IHostedService
        {
            public Task StartAsync(CancellationToken cancellationToken)
            {
                // Only this host's meter (parallel tests have their own "Gatehouse" meters); one of the agent/proxy twins.
                var factory = services.GetRequiredService<IMeterFactory>();
                test._meters.InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Scope == factory && instrument.Name is "vault.proxy.auth.success" or "vault.proxy.auth.failure")
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                };
                test._meters.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
                    Interlocked.Add(ref instrument.Name.EndsWith("success", StringComparison.Ordinal) ? ref test._successes : ref test._failures, value));
                test._meters.Start();
                services.GetRequiredService<AuthHandler>().Waiting += wait => test._waits.Writer.TryWrite(wait);
                foreach (var writer in services.GetRequiredService<SinkServer>().Writers)
                {
                    writer.Written += (sink, _) => test._written.Writer.TryWrite(sink.Name);
                }

                return Task.CompletedTask;
            }

            public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }
}
