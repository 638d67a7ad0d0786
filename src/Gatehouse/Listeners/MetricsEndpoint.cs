using System.Text.Json;
using Gatehouse.ApiProxy;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Listeners;

/// <summary>
/// <c>/agent/v1/metrics</c> and <c>/proxy/v1/metrics</c>: GET only (405 <c>{"errors":[]}</c> otherwise). Until
/// issue 7 brings the in-memory sink and Prometheus text, this serves Vault's JSON shape with the running totals of
/// every declared counter, and answers a Prometheus request with Vault's own "not enabled" 400.
/// </summary>
internal sealed class MetricsEndpoint
{
    private readonly GatehouseMetrics _metrics;
    private readonly TimeProvider _time;

    public MetricsEndpoint(GatehouseMetrics metrics, TimeProvider time)
    {
        _metrics = metrics;
        _time = time;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.ContentType = "application/json";
            await response.WriteAsync("{\"errors\":[]}", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var format = context.Request.Query["format"].ToString();
        if (format.Length == 0 && context.Request.Headers.Accept.ToString() is var accept
            && (accept.Contains("application/openmetrics-text", StringComparison.Ordinal) || accept.Contains("prometheus/telemetry", StringComparison.Ordinal)))
        {
            format = "prometheus";
        }

        if (format == "prometheus")
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            response.ContentType = "text/plain";
            await response.WriteAsync("prometheus is not enabled", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (format.Length > 0)
        {
            await ProxyErrorWriter.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"metric response format \"{format}\" unknown")
                .ConfigureAwait(false);
            return;
        }

        response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("Timestamp", _time.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss +0000 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteStartArray("Gauges");
            writer.WriteEndArray();
            writer.WriteStartArray("Points");
            writer.WriteEndArray();
            writer.WriteStartArray("Counters");
            foreach (var (name, total) in _metrics.CounterTotals())
            {
                writer.WriteStartObject();
                writer.WriteString("Name", name);
                writer.WriteNumber("Count", total);
                writer.WriteNumber("Sum", total);
                writer.WriteStartObject("Labels");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("Samples");
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }
}
