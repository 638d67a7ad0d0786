using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Telemetry;

/// <summary>
/// <c>GET /agent/v1/metrics</c> and <c>/proxy/v1/metrics</c>, as Vault Agent serves them: no authentication, also on
/// metrics_only listeners. The format comes from <c>?format=</c>, else from the Accept header; JSON by default.
/// </summary>
internal sealed class MetricsEndpoint(MetricsCollector collector, MetricsOptions options)
{
    public const string PrometheusFormat = "prometheus";

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method))
        {
            await WriteAsync(response, StatusCodes.Status405MethodNotAllowed, "application/json", """{"errors":[]}""");
            return;
        }

        string format = request.Query["format"].ToString();
        if (format.Length == 0)
        {
            format = FormatFromAccept(request.Headers.Accept);
        }

        switch (format)
        {
            case "":
                byte[] json = VaultJsonMetricsWriter.Write(collector.Collect(), options);
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = VaultJsonMetricsWriter.ContentType;
                response.ContentLength = json.Length;
                await response.Body.WriteAsync(json, context.RequestAborted);
                break;
            case PrometheusFormat when !options.PrometheusEnabled:
                await WriteAsync(response, StatusCodes.Status400BadRequest, "text/plain", "prometheus is not enabled");
                break;
            case PrometheusFormat:
                await WriteAsync(response, StatusCodes.Status200OK, PrometheusWriter.ContentType, PrometheusWriter.Write(collector.Collect(), options));
                break;
            default:
                await WriteAsync(response, StatusCodes.Status400BadRequest, "text/plain", $"metric response format {GoQuote(format)} unknown");
                break;
        }
    }

    /// <summary>
    /// Vault's rule: the first Accept value starting with <c>application/openmetrics-text</c>, or any Accept value
    /// containing <c>prometheus/telemetry</c>, asks for Prometheus.
    /// </summary>
    public static string FormatFromAccept(Microsoft.Extensions.Primitives.StringValues accept)
    {
        if (accept.Count == 0)
        {
            return "";
        }

        if (accept[0]?.StartsWith("application/openmetrics-text", StringComparison.Ordinal) == true)
        {
            return PrometheusFormat;
        }

        foreach (string? value in accept)
        {
            if (value?.Contains("prometheus/telemetry", StringComparison.Ordinal) == true)
            {
                return PrometheusFormat;
            }
        }

        return "";
    }

    /// <summary>Go's <c>%q</c> for the characters a query string can carry.</summary>
    private static string GoQuote(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (char c in value)
        {
            _ = c switch
            {
                '"' => builder.Append("\\\""),
                '\\' => builder.Append("\\\\"),
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when char.IsControl(c) => builder.Append($"\\x{(int)c:x2}"),
                _ => builder.Append(c),
            };
        }

        return builder.Append('"').ToString();
    }

    private static async Task WriteAsync(HttpResponse response, int status, string contentType, string body)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, response.HttpContext.RequestAborted);
    }
}
