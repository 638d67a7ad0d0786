using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The one mapper from <see cref="ProxyFailure"/> to an HTTP answer: a status code and Vault's
/// <c>{"errors":["..."]}</c> body, so clients and SDKs that parse Vault errors understand Gatehouse's own.
/// </summary>
internal static class ProxyErrorWriter
{
    public static int StatusCodeFor(ProxyFailureKind kind) => kind switch
    {
        ProxyFailureKind.UpstreamUnreachable => StatusCodes.Status502BadGateway,
        ProxyFailureKind.UpstreamFailed => StatusCodes.Status502BadGateway,
        ProxyFailureKind.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        ProxyFailureKind.TokenUnavailable => StatusCodes.Status503ServiceUnavailable,
        ProxyFailureKind.RequestTooLarge => StatusCodes.Status413PayloadTooLarge,
        ProxyFailureKind.BadRequest => StatusCodes.Status400BadRequest,
        ProxyFailureKind.ClientCanceled => StatusCodes.Status499ClientClosedRequest,
        ProxyFailureKind.Refused => StatusCodes.Status403Forbidden,
        ProxyFailureKind.Overloaded => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// Writes the failure as a Vault-style error. When part of an answer already went out, the only honest signal left
    /// is to abort the connection, so the client sees a truncated response rather than a corrupted one.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ProxyFailure failure)
    {
        if (failure.Kind == ProxyFailureKind.ClientCanceled)
        {
            return Task.CompletedTask;
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        // A shed request never reached Vault: tell the client when to come back (Vault's clients honour it on a 503).
        return WriteErrorAsync(
            context, StatusCodeFor(failure.Kind), failure.Message, failure.Kind == ProxyFailureKind.Overloaded ? RetryAfterShed : null);
    }

    private static readonly string RetryAfterShed = UpstreamLimiter.ShedRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes <c>{"errors":[message]}</c> with <paramref name="statusCode"/> (and a <c>Retry-After</c> when given),
    /// replacing anything set so far.
    /// </summary>
    public static Task WriteErrorAsync(HttpContext context, int statusCode, string message, string? retryAfter = null)
    {
        var response = context.Response;
        response.Clear();
        if (retryAfter is not null)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        var body = ErrorBody(message);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    // Quotes come out as \" (as Go writes them), not \u0022.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] ErrorBody(string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("errors");
            writer.WriteStringValue(message);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
