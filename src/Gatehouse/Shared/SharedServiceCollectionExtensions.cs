using Gatehouse.Configuration;
using Gatehouse.Shared;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

internal static class SharedServiceCollectionExtensions
{
    /// <summary>
    /// With <c>cache { shared "redis" }</c>: registers the <see cref="SharedStore"/> (its keys read now, so a key that
    /// cannot be read fails start-up with one line) and the connector that opens it with the host. Without the block
    /// nothing is registered and no Redis code runs (StackExchange.Redis is not even loaded).
    /// </summary>
    public static IServiceCollection AddShared(this IServiceCollection services, GatehouseConfig config, Func<string, string?>? environment = null)
    {
        if (config.Cache?.Shared is not { } shared)
            return services;

        services.AddSingleton(_ => SharedKeys.Load(shared, environment ?? Environment.GetEnvironmentVariable));
        services.AddSingleton(sp => new SharedStore(
            shared,
            sp.GetRequiredService<SharedKeys>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SharedStore>>(),
            sp.GetService<GatehouseMetrics>()));
        services.AddHostedService(sp => new SharedStoreConnector(sp.GetRequiredService<SharedStore>()));
        return services;
    }

    /// <summary>The shared store's line in the health body, or null without one.</summary>
    public static Func<HealthShared>? SharedHealth(this IServiceProvider services) =>
        services.GetService<SharedStore>() is { } store ? () => new HealthShared(store.IsUp, store.Address) : null;
}
