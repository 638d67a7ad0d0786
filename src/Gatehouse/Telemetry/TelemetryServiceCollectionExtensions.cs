using System.Diagnostics.Metrics;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The instruments (<see cref="GatehouseMetrics"/>), the collector that aggregates them for the metrics endpoint,
    /// the endpoint itself and <see cref="VaultReachability"/>. The host resolves the collector before anything
    /// records, so the first login is counted. The health endpoint needs the token store and the cache, which
    /// Telemetry does not know: the host registers it.
    /// </summary>
    /// <summary>
    /// The one registration of the instruments (<see cref="GatehouseMetrics"/>, on the host's <see cref="IMeterFactory"/>):
    /// every feature that records calls this, so each can be composed without the others.
    /// </summary>
    public static IServiceCollection AddGatehouseMetrics(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new GatehouseMetrics(sp.GetService<IMeterFactory>()));
        return services;
    }

    public static IServiceCollection AddTelemetry(this IServiceCollection services, GatehouseConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddGatehouseMetrics();
        services.TryAddSingleton(sp => new VaultReachability(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new MetricsCollector(
            sp.GetRequiredService<TimeProvider>(), scope: sp.GetRequiredService<GatehouseMetrics>().Scope));
        services.TryAddSingleton(_ => MetricsOptions.From(config.Telemetry, Environment.MachineName));
        services.TryAddSingleton(sp => new MetricsEndpoint(sp.GetRequiredService<MetricsCollector>(), sp.GetRequiredService<MetricsOptions>()));
        return services;
    }
}
