using System.Diagnostics;

namespace Gatehouse.Telemetry;

/// <summary>
/// Traces (Gatehouse only, <c>telemetry { otlp_traces = true }</c>): one span per proxied request, a child of the
/// client's W3C <c>traceparent</c> when it sends one, and sent on to Vault as the <c>traceparent</c> of the upstream
/// request, so a trace runs client → Gatehouse → Vault. The source has no listener unless tracing is configured: then
/// no span is created and nothing is propagated (the request handler checks <see cref="ActivitySource.HasListeners"/>,
/// one field read).
/// </summary>
internal static class GatehouseTracing
{
    public const string SourceName = "Gatehouse.ApiProxy";

    public static readonly ActivitySource Source = new(SourceName, ProductInfo.Version);
}
