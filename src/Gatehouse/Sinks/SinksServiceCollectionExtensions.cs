using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Sinks;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wires the sinks into the host. Call after <see cref="AutoAuthServiceCollectionExtensions.AddAutoAuth"/>.</summary>
internal static class SinksServiceCollectionExtensions
{
    /// <summary>
    /// Registers the configured sinks, the <see cref="SinkServer"/> and its background service (which also carries
    /// exit_after_auth). With no auto_auth block there is nothing to write and nothing is registered.
    /// </summary>
    public static IServiceCollection AddSinks(this IServiceCollection services, GatehouseConfig config)
    {
        if (config.AutoAuth is not { } autoAuth)
        {
            return services;
        }

        services.TryAddSingleton(sp =>
        {
            var client = sp.GetRequiredKeyedService<VaultClient>(AutoAuthServiceCollectionExtensions.ClientKey);
            var sinks = autoAuth.Sinks.Select(s => (ITokenSink)SinkFactory.Create(s, client)).ToList();
            return new SinkServer(sinks, sp.GetRequiredService<TokenStore>(), sp.GetRequiredService<GatehouseMetrics>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>());
        });
        services.AddSingleton<IHostedService>(sp => new SinkService(
            sp.GetRequiredService<SinkServer>(), sp.GetRequiredService<AutoAuthExit>(), config.ExitAfterAuth,
            sp.GetRequiredService<ILogger<SinkService>>()));
        return services;
    }
}
