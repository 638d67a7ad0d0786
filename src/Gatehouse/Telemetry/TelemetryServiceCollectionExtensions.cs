using System.Diagnostics.Metrics;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

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

    /// <summary>
    /// statsd, statsite and dogstatsd, when the stanza names any: the <see cref="MetricsPusher"/> (the host resolves it
    /// with the collector, before anything records) and a hosted service running each sink's send loop.
    /// </summary>
    private static void AddMetricsPush(this IServiceCollection services, GatehouseConfig config)
    {
        var telemetry = config.Telemetry;
        if (string.IsNullOrEmpty(telemetry?.StatsdAddress) && string.IsNullOrEmpty(telemetry?.StatsiteAddress)
            && string.IsNullOrEmpty(telemetry?.DogstatsdAddress))
        {
            return;
        }

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<MetricsOptions>();
            var time = sp.GetRequiredService<TimeProvider>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<PushSink>();
            var sinks = new List<PushSink>();
            if (options.StatsdAddress is { } statsd)
                sinks.Add(new PushSink(PushProtocol.Statsd, statsd, time, logger));
            if (options.StatsiteAddress is { } statsite)
                sinks.Add(new PushSink(PushProtocol.Statsite, statsite, time, logger));
            if (options.DogstatsdAddress is { } dogstatsd)
                sinks.Add(new PushSink(PushProtocol.Dogstatsd, dogstatsd, time, logger));
            var metrics = sp.GetRequiredService<GatehouseMetrics>();
            var pusher = new MetricsPusher(time, options, sp.GetRequiredService<MetricsCollector>(), sinks, metrics.Scope);
            metrics.ObservePushSinks(sinks, () => pusher.Dropped);
            return pusher;
        });
        services.AddHostedService(sp => new MetricsPushService(sp.GetRequiredService<MetricsPusher>()));
    }

    public static IServiceCollection AddTelemetry(this IServiceCollection services, GatehouseConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        // Our series label listeners by address; registered before AddGatehouseMetrics, whose default this replaces.
        string?[] listenerLabels = [.. config.Listeners.Select(l => l.Role == ListenerRole.MetricsOnly ? null : l.EffectiveAddress)];
        services.TryAddSingleton(sp => new GatehouseMetrics(sp.GetService<IMeterFactory>(), listenerLabels));
        services.AddGatehouseMetrics();
        services.TryAddSingleton(sp =>
        {
            var reachability = new VaultReachability(sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<GatehouseMetrics>().ObserveReachability(reachability);
            return reachability;
        });
        services.TryAddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<GatehouseMetrics>();
            var collector = new MetricsCollector(sp.GetRequiredService<TimeProvider>(), scope: metrics.Scope, runtimeMetrics: true);
            metrics.StartFailureSeriesAtZero();
            return collector;
        });
        services.TryAddSingleton(_ => MetricsOptions.From(config.Telemetry, HostName()));
        services.TryAddSingleton(sp => new MetricsEndpoint(sp.GetRequiredService<MetricsCollector>(), sp.GetRequiredService<MetricsOptions>()));
        services.AddMetricsPush(config);
        if (config.Telemetry is { } telemetry)
        {
            OtlpExport.Register(services, telemetry, MetricsOptions.From(telemetry, HostName()));
        }

        return services;
    }

    /// <summary>Go's os.Hostname: the whole kernel host name (Environment.MachineName stops at the first dot).</summary>
    private static string HostName()
    {
        try
        {
            return System.Net.Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return Environment.MachineName;
        }
    }
}
