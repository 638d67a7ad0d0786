using System.Text.Json;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.ApiProxy;

/// <summary>
/// Handles one request the listener hands to the API proxy: shape it (token, consistency), send it through the
/// <see cref="IVaultProxier"/> chain (which may or may not contain a cache), and answer.
/// </summary>
internal sealed partial class ProxyHandler
{
    /// <summary>Bodies up to this size are held in memory so the request can be retried; larger ones stream, unretried.</summary>
    public const long RetryBufferLimit = 1024 * 1024;

    private readonly IVaultProxier _proxier;
    private readonly TokenSelector _tokens;
    private readonly TokenStore _tokenStore;
    private readonly ConsistencyTracker _consistency;
    private readonly GatehouseMetrics _metrics;
    private readonly bool _retriesEnabled;
    private readonly ILogger<ProxyHandler> _logger;

    public ProxyHandler(
        IVaultProxier proxier,
        TokenSelector tokens,
        TokenStore tokenStore,
        ConsistencyTracker consistency,
        RetryPolicy retry,
        GatehouseMetrics metrics,
        ILogger<ProxyHandler> logger)
    {
        _proxier = proxier;
        _tokens = tokens;
        _tokenStore = tokenStore;
        _consistency = consistency;
        _metrics = metrics;
        _retriesEnabled = retry.MaxRetries > 0;
        _logger = logger;
    }

    /// <summary>Proxies one request that arrived on listener <paramref name="listener"/> (the index labels the metrics).</summary>
    public async Task HandleAsync(HttpContext context, int listener = 0)
    {
        // Counted exactly once: in flight while handled, then by outcome (and cache hit or miss) in CompleteAsync.
        _metrics.RequestStarted(listener);
        var request = new ProxyRequest(context);
        var outcome = ProxyOutcomeKind.Error;
        try
        {
            outcome = await HandleCoreAsync(context, request).ConfigureAwait(false);
        }
        finally
        {
            _metrics.RequestCompleted(listener, outcome, request.ServedFromCache);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                // Never the query string, headers or bodies; a token in the path (auth/token/lookup/<token>) is cut off.
                Log.Proxied(
                    _logger, context.Request.Method, RequestLogPath.Safe(context.Request.Path.Value), context.Response.StatusCode,
                    request.ServedFromCache ? "hit" : outcome == ProxyOutcomeKind.Success ? "miss" : "none",
                    request.UpstreamElapsed is { } elapsed ? Math.Round(elapsed.TotalMilliseconds, 1) : null);
            }
        }
    }

    private async Task<ProxyOutcomeKind> HandleCoreAsync(HttpContext context, ProxyRequest request)
    {
        // Step map: 1. choose the token; 2. consistency headers; 3. decide whether the answer must be inspected
        // (redaction) and whether the body can be kept for retries; 4. send through the chain; 5. answer;
        // 6. report a rejected auto-auth token; 7. classify for the metrics.
        var cancellationToken = context.RequestAborted;
        var redact = false;
        ProxyResult result;
        try
        {
            var tokenFailure = await _tokens.ApplyAsync(request, cancellationToken).ConfigureAwait(false);
            if (tokenFailure is not null)
            {
                await ProxyErrorWriter.WriteAsync(context, tokenFailure).ConfigureAwait(false);
                return ProxyOutcomeKind.Error;
            }

            _consistency.Apply(context.Request.Headers);

            var redaction = _tokens.Mode == AutoAuthTokenMode.Off ? TokenRedactor.Kind.None : TokenRedactor.Classify(context.Request.Path.Value ?? "");
            if (redaction != TokenRedactor.Kind.None)
            {
                // Buffered: the body names the token to look up, and the answer must be rewritten before the client sees it.
                await request.BufferBodyAsync(long.MaxValue, evenChunked: true, cancellationToken).ConfigureAwait(false);
                request.BufferResponse = redact = TokenRedactor.Applies(redaction, request, _tokenStore.Current?.Token);
            }
            else if (_retriesEnabled)
            {
                await request.BufferBodyAsync(RetryBufferLimit, evenChunked: false, cancellationToken).ConfigureAwait(false);
            }

            result = await _proxier.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception)
        {
            // The client's body broke while we buffered it (malformed chunking, too large, too slow).
            result = exception.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ProxyResult.Failed(ProxyFailureKind.RequestTooLarge, "request body is larger than this listener's max_request_size")
                : ProxyResult.Failed(ProxyFailureKind.BadRequest, $"failed to read the request body: {exception.Message}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result = ProxyResult.Failed(ProxyFailureKind.ClientCanceled, "the client went away");
        }

        switch (result.Outcome)
        {
            case ProxyOutcome.Failed:
                Log.Failed(_logger, result.Failure!.Kind, result.Failure.Message);
                await ProxyErrorWriter.WriteAsync(context, result.Failure).ConfigureAwait(false);
                return ProxyOutcomeKind.Error;
            case ProxyOutcome.Buffered:
                result = await WriteBufferedAsync(context, result.Response!, redact).ConfigureAwait(false);
                if (result.Outcome == ProxyOutcome.Failed)
                {
                    await ProxyErrorWriter.WriteAsync(context, result.Failure!).ConfigureAwait(false);
                    return ProxyOutcomeKind.Error;
                }

                break;
        }

        if (result.StatusCode == StatusCodes.Status403Forbidden && request.UsesAutoAuthToken)
        {
            _tokenStore.ReportRejected(request.Token!);
        }

        return result.StatusCode < 400 ? ProxyOutcomeKind.Success : ProxyOutcomeKind.ClientError;
    }

    /// <summary>Writes an answer the chain buffered, redacting the auto-auth token from a successful token lookup.</summary>
    /// <remarks>
    /// A decorator in the chain (the lease cache) may buffer answers that need no redaction, so redaction runs only
    /// when this handler asked for it; and an <c>X-Cache</c> the chain set (a cache hit) is kept.
    /// </remarks>
    private static async Task<ProxyResult> WriteBufferedAsync(HttpContext context, BufferedResponse buffered, bool redact)
    {
        var body = buffered.Body;
        if (redact && buffered.StatusCode == StatusCodes.Status200OK)
        {
            try
            {
                body = TokenRedactor.Redact(body.Span);
            }
            catch (JsonException exception)
            {
                return ProxyResult.Failed(ProxyFailureKind.Internal, $"failed to process token lookup response: {exception.Message}");
            }
        }

        var response = context.Response;
        response.StatusCode = buffered.StatusCode;
        foreach (var (name, values) in buffered.Headers)
        {
            if (!name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Append(name, values);
            }
        }

        if (buffered.StatusCode < 400 && !response.Headers.ContainsKey("X-Cache"))
        {
            response.Headers["X-Cache"] = "MISS";
        }

        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        return ProxyResult.Streamed(buffered.StatusCode);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "proxied {Method} {Path}: status={Status} cache={Cache} upstream_ms={UpstreamMs}")]
        public static partial void Proxied(ILogger logger, string method, string path, int status, string cache, double? upstreamMs);

        [LoggerMessage(2, LogLevel.Debug, "Proxied request failed ({Kind}): {Message}")]
        public static partial void Failed(ILogger logger, ProxyFailureKind kind, string message);
    }
}
