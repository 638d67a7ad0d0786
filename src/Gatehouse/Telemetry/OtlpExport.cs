using System.Diagnostics.Metrics;
using Gatehouse.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Gatehouse.Telemetry;

/// <summary>
/// <c>telemetry.otlp_endpoint</c> (Gatehouse only): every Gatehouse instrument, and .NET's own runtime and process
/// metrics (the <c>System.Runtime</c> meter: GC, heap, thread pool, exceptions, CPU time, working set), exported over
/// OTLP with OpenTelemetry's stable exporter. Names are the dotted exported names Vault's JSON document uses
/// (<c>metrics_prefix</c>, host name segment), and <c>prefix_filter</c> applies. Nothing is registered, and no
/// OpenTelemetry code runs, unless the key is set.
/// </summary>
internal static class OtlpExport
{
    public const string RuntimeMeterName = "System.Runtime";

    public static void Register(IServiceCollection services, TelemetryConfig telemetry, MetricsOptions options)
    {
        if (string.IsNullOrEmpty(telemetry.OtlpEndpoint))
        {
            return;
        }

        bool grpc = telemetry.OtlpProtocol == "grpc";
        var endpoint = new Uri(grpc ? telemetry.OtlpEndpoint : telemetry.OtlpEndpoint.TrimEnd('/') + "/v1/metrics");
        var interval = telemetry.OtlpExportInterval ?? Defaults.OtlpExportInterval;
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatehouseMetrics.MeterName, RuntimeMeterName)
            .AddView(instrument => View(instrument, options))
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = endpoint;
                exporter.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Min(int.MaxValue, interval.TotalMilliseconds);
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            }));
        if (telemetry.OtlpTraces)
        {
            var traces = new Uri(grpc ? telemetry.OtlpEndpoint : telemetry.OtlpEndpoint.TrimEnd('/') + "/v1/traces");
            services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(GatehouseTracing.SourceName)
                .AddOtlpExporter(exporter =>
                {
                    exporter.Endpoint = traces;
                    exporter.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                }));
        }
    }

    /// <summary>Our instruments under their exported names, or dropped by <c>prefix_filter</c>; the runtime's as they are.</summary>
    private static MetricStreamConfiguration? View(Instrument instrument, MetricsOptions options)
    {
        if (instrument.Meter.Name != GatehouseMetrics.MeterName)
        {
            return null;
        }

        var kind = instrument.GetType() is { IsGenericType: true } type
            && (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(ObservableCounter<>))
                ? MetricKind.Counter
                : instrument.GetType() is { IsGenericType: true } h && h.GetGenericTypeDefinition() == typeof(Histogram<>)
                    ? MetricKind.Histogram
                    : MetricKind.Gauge;
        string name = options.ExportName(instrument.Name, kind);
        return options.Allows(name) ? new MetricStreamConfiguration { Name = name } : MetricStreamConfiguration.Drop;
    }
}
