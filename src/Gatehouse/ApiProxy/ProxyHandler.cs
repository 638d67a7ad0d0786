using System.Collections.Concurrent;
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

    /// <summary>
    /// JSON answers to requests that carry the auto-auth token are read whole up to this size, so the token's own
    /// fields can be removed as Vault Agent does; a larger answer streams through the byte mask instead.
    /// </summary>
    public const long GuardReadLimit = 1024 * 1024;

    private readonly IVaultProxier _proxier;
    private readonly TokenSelector _tokens;
    private readonly TokenStore _tokenStore;
    private readonly ConsistencyTracker _consistency;
    private readonly GatehouseMetrics _metrics;
    private readonly bool _retriesEnabled;
    private readonly WrappingDiscarder _wrappingDiscarder;
    private GuardMemo? _lastGuard;
    private readonly ILogger<ProxyHandler> _logger;
    private readonly IStoredAnswers? _storedAnswers;
    private readonly AutoAuthPathRules? _pathRules;

    // The refusal rules already logged at Information; later refusals by the same rule log at Debug. Bounded: a rule
    // names a listener and a configured pattern (or list), never a request's path.
    private readonly ConcurrentDictionary<string, byte> _refusalsLogged = new(StringComparer.Ordinal);

    public ProxyHandler(
        IVaultProxier proxier,
        TokenSelector tokens,
        TokenStore tokenStore,
        ConsistencyTracker consistency,
        RetryPolicy retry,
        GatehouseMetrics metrics,
        WrappingDiscarder wrappingDiscarder,
        ILogger<ProxyHandler> logger,
        IStoredAnswers? storedAnswers = null,
        AutoAuthPathRules? pathRules = null)
    {
        _pathRules = pathRules is { Any: true } ? pathRules : null;
        _storedAnswers = storedAnswers;
        _wrappingDiscarder = wrappingDiscarder;
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
        using var span = GatehouseTracing.Source.HasListeners() ? StartSpan(context) : null;
        try
        {
            outcome = await HandleCoreAsync(context, request, listener).ConfigureAwait(false);
        }
        finally
        {
            _metrics.RequestCompleted(listener, outcome, request.ServedFromCache ? request.CacheKind : null);
            if (span is not null)
            {
                span.SetTag("http.response.status_code", context.Response.StatusCode);
                span.SetTag("gatehouse.cache", request.ServedFromCache ? request.CacheKind : "miss");
                if (outcome == ProxyOutcomeKind.Error)
                {
                    span.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
                }
            }

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

    /// <summary>
    /// The request's span (<c>otlp_traces</c> only): a child of the client's W3C <c>traceparent</c> when it sent one. Its
    /// name and tags never hold a query string or a token: the path is cut as the request log line cuts it.
    /// </summary>
    private static System.Diagnostics.Activity? StartSpan(HttpContext context)
    {
        var headers = context.Request.Headers;
        System.Diagnostics.ActivityContext.TryParse(headers["traceparent"].ToString(), headers["tracestate"].ToString(), isRemote: true, out var parent);
        var span = GatehouseTracing.Source.StartActivity("proxy " + context.Request.Method, System.Diagnostics.ActivityKind.Server, parent);
        span?.SetTag("http.request.method", context.Request.Method);
        span?.SetTag("url.path", RequestLogPath.Safe(context.Request.Path.Value));
        return span;
    }

    private async Task<ProxyOutcomeKind> HandleCoreAsync(HttpContext context, ProxyRequest request, int listener)
    {
        // Step map: 1. methods never forwarded, and paths the auto-auth token may not reach; 2. choose the token (before auto-auth has a confirmed token, a restored
        // one may answer from the cache, never upstream); 3. consistency headers; 4. a request that carries the
        // auto-auth token gets a guard, which reads JSON answers whole and masks streamed ones; 5. keep a small body
        // for retries; 6. send through the chain; 7. answer, through the guard; 8. report a rejected auto-auth token;
        // 9. classify for the metrics.
        var cancellationToken = context.RequestAborted;
        ProxyResult result;
        try
        {
            if (IsNeverForwarded(context.Request.Method))
            {
                await WriteMethodNotAllowedAsync(context).ConfigureAwait(false);
                return ProxyOutcomeKind.ClientError;
            }

            // Before anything that could use the auto-auth token: the restored token's cache lookup, the chain (whose
            // caches answer without Vault) and the forwarder.
            if (_pathRules is not null && _tokens.WillUseAutoAuthToken(request)
                && _pathRules.Refusal(context.Request, listener) is { } refusal)
            {
                var level = _refusalsLogged.TryAdd(refusal.Rule, 0) ? LogLevel.Information : LogLevel.Debug;
                Log.PathRefused(_logger, level, context.Request.Method, refusal.LogPath, listener, refusal.Rule);
                await ProxyErrorWriter.WriteErrorAsync(context, StatusCodes.Status403Forbidden, refusal.Message).ConfigureAwait(false);
                return ProxyOutcomeKind.ClientError;
            }

            if (await AnswerWithRestoredTokenAsync(request, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                result = stored;
            }
            else
            {
                var tokenFailure = await _tokens.ApplyAsync(request, cancellationToken).ConfigureAwait(false);
                if (tokenFailure is not null)
                {
                    await ProxyErrorWriter.WriteAsync(context, tokenFailure).ConfigureAwait(false);
                    return ProxyOutcomeKind.Error;
                }

                _consistency.Apply(context.Request.Headers);

                request.Guard = GuardFor(request);
                if (request.Guard is not null)
                {
                    request.BufferJsonUpTo = Math.Max(request.BufferJsonUpTo, GuardReadLimit);
                }

                if (_retriesEnabled)
                {
                    await request.BufferBodyAsync(RetryBufferLimit, evenChunked: false, cancellationToken).ConfigureAwait(false);
                }

                result = await _proxier.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
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

        if (result.Outcome == ProxyOutcome.Buffered)
        {
            result = await WriteBufferedAsync(context, request, result.Response!).ConfigureAwait(false);
        }

        if (result.Outcome == ProxyOutcome.Failed)
        {
            Log.Failed(_logger, result.Failure!.Kind, result.Failure.Message);
            await ProxyErrorWriter.WriteAsync(context, result.Failure).ConfigureAwait(false);
            return ProxyOutcomeKind.Error;
        }

        if (result.StatusCode == StatusCodes.Status403Forbidden && request.UsesAutoAuthToken)
        {
            _tokenStore.ReportRejected(request.Token!);
        }

        return result.StatusCode < 400 ? ProxyOutcomeKind.Success : ProxyOutcomeKind.ClientError;
    }

    /// <summary>
    /// Step 2 before auto-auth has a confirmed token: the token restored from the persistent cache looks the request
    /// up in the cache. A hit is answered, through that token's guard; a miss leaves the request as it was, to wait
    /// for a confirmed token like any other. The restored token is never sent upstream: Vault has not said it is good.
    /// </summary>
    private async ValueTask<ProxyResult?> AnswerWithRestoredTokenAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        if (_storedAnswers is null || _tokens.RestoredFor(request) is not { } restored)
        {
            return null;
        }

        request.Token = restored.Token;
        request.AutoAuthToken = restored;
        var answer = await _storedAnswers.TryAnswerAsync(request, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            request.Token = null;
            request.AutoAuthToken = null;
            return null;
        }

        request.Guard = GuardFor(request);
        return answer;
    }

    /// <summary>
    /// The guard for a request that carries the auto-auth token, or null. One guard serves every request made with the
    /// same token snapshot (it holds the token's bytes), so the request path allocates none.
    /// </summary>
    private TokenGuard? GuardFor(ProxyRequest request)
    {
        var autoAuth = request.AutoAuthToken ?? _tokenStore.Current;
        if (autoAuth is null || !string.Equals(request.Token, autoAuth.Token, StringComparison.Ordinal))
        {
            return null;
        }

        var last = Volatile.Read(ref _lastGuard);
        if (last is not null && ReferenceEquals(last.Source, autoAuth))
        {
            return last.Guard;
        }

        var guard = TokenGuard.For(request.Token, autoAuth.Token, autoAuth.Accessor);
        Volatile.Write(ref _lastGuard, new GuardMemo(autoAuth, guard!));
        return guard;
    }

    private sealed record GuardMemo(AutoAuthToken Source, TokenGuard Guard);

    /// <summary>Statuses whose answers never have a body (RFC 9110): nothing may be written after their headers.</summary>
    internal static bool IsBodylessStatus(int statusCode) => statusCode is < 200 or 204 or 205 or 304;

    /// <summary>
    /// CONNECT (a tunnel) and TRACE (which echoes the request, our token included, from anything between us and Vault)
    /// are never sent upstream; Vault answers both with 405 and an empty error list, and so does Gatehouse, at once.
    /// </summary>
    internal static bool IsNeverForwarded(string method) => HttpMethods.IsConnect(method) || HttpMethods.IsTrace(method);

    private static Task WriteMethodNotAllowedAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = EmptyErrors.Length;
        return response.Body.WriteAsync(EmptyErrors, context.RequestAborted).AsTask();
    }

    private static readonly byte[] EmptyErrors = """{"errors":[]}"""u8.ToArray();

    /// <summary>
    /// Writes an answer the chain read whole, through the guard when the request carried the auto-auth token. A
    /// decorator in the chain (the lease cache) may read answers whole for itself, so an <c>X-Cache</c> it set (a hit)
    /// is kept. Statuses without a body, and answers to HEAD, get their headers only, with Vault's Content-Length kept
    /// for HEAD.
    /// </summary>
    private async Task<ProxyResult> WriteBufferedAsync(HttpContext context, ProxyRequest request, BufferedResponse buffered)
    {
        var body = buffered.Body;
        if (request.Guard is { } guard)
        {
            switch (guard.Apply(body, out body, out var wrappingToken))
            {
                case GuardVerdict.Redacted:
                    Log.Redacted(_logger, context.Request.Method, RequestLogPath.Safe(context.Request.Path.Value));
                    break;
                case GuardVerdict.RefuseWrapped:
                    await _wrappingDiscarder.DiscardAsync(wrappingToken, context.Request.Headers, context.RequestAborted).ConfigureAwait(false);
                    return ProxyResult.Failed(
                        ProxyFailureKind.Refused,
                        "Gatehouse does not response-wrap an answer that holds its auto-auth token; the wrapping token was used up. " +
                        "Send your own X-Vault-Token to wrap a lookup or renewal of it");
            }
        }

        var response = context.Response;
        response.StatusCode = buffered.StatusCode;
        var head = HttpMethods.IsHead(context.Request.Method);
        foreach (var (name, values) in buffered.Headers)
        {
            if (head || !name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Append(name, values);
            }
        }

        if (buffered.StatusCode < 400 && !response.Headers.ContainsKey("X-Cache"))
        {
            response.Headers["X-Cache"] = "MISS";
        }

        if (!head && !IsBodylessStatus(buffered.StatusCode))
        {
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }

        return ProxyResult.Streamed(buffered.StatusCode);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ProxyHandlerProxied, LogLevel.Debug, "proxied {Method} {Path}: status={Status} cache={Cache} upstream_ms={UpstreamMs}")]
        public static partial void Proxied(ILogger logger, string method, string path, int status, string cache, double? upstreamMs);

        [LoggerMessage(LogEvents.ProxyHandlerFailed, LogLevel.Debug, "Proxied request failed ({Kind}): {Message}")]
        public static partial void Failed(ILogger logger, ProxyFailureKind kind, string message);

        [LoggerMessage(LogEvents.ProxyHandlerRedacted, LogLevel.Debug, "Removed the auto-auth token from the answer to {Method} {Path}")]
        public static partial void Redacted(ILogger logger, string method, string path);

        /// <summary>The first refusal by a rule at Information, so that a client retrying a denied path cannot flood the log; the rest at Debug.</summary>
        [LoggerMessage(EventId = LogEvents.ProxyHandlerPathRefused, Message = "Refused to give the auto-auth token to {Method} {Path} on listener {Listener}: {Rule}")]
        public static partial void PathRefused(ILogger logger, LogLevel level, string method, string path, int listener, string rule);
    }
}
