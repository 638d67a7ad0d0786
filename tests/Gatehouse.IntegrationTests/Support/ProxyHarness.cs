using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>Starts the real Gatehouse host in-process on an ephemeral loopback port in front of an upstream.</summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    private ProxyHarness(GatehouseHost host, HttpClient client)
    {
        Host = host;
        Client = client;
    }

    public GatehouseHost Host { get; }

    /// <summary>A plain client whose base address is the first listener.</summary>
    public HttpClient Client { get; }

    public TokenStore Tokens => Host.TokenStore;

    public static async Task<ProxyHarness> StartAsync(
        string upstreamAddress,
        ApiProxyConfig? apiProxy = null,
        Func<GatehouseConfig, GatehouseConfig>? configure = null,
        ApiProxyOptions? options = null,
        ListenerConfig? listener = null,
        TimeSpan? halfClosedGrace = null,
        TextWriter? logConsole = null,
        TimeProvider? time = null)
    {
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = upstreamAddress },
            ApiProxy = apiProxy ?? new ApiProxyConfig(),
            Listeners = [listener ?? new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        config = configure?.Invoke(config) ?? config;
        var host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions
        {
            ApiProxy = options ?? new ApiProxyOptions { RetryJitter = () => 0, FirstTokenWait = TimeSpan.FromSeconds(2) },
            HalfClosedGrace = halfClosedGrace,
            LogConsole = logConsole,
            TimeProvider = time,
            LoggerFactory = Environment.GetEnvironmentVariable("GATEHOUSE_TEST_LOGS") is "1"
                ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug))
                : null,
        });
        var address = host.Addresses[0].Address;
        var client = new HttpClient { BaseAddress = address.Scheme == "unix" ? new Uri("http://localhost") : address };
        return new ProxyHarness(host, client);
    }

    public void PublishToken(string token) => Tokens.Publish(new AutoAuthToken(token, "accessor-" + token, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
    }
}
