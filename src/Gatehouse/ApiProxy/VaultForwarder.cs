using System.Net.Sockets;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The plain <see cref="IVaultProxier"/>: YARP's <see cref="IHttpForwarder"/> over the shared <see cref="VaultUpstream"/>.
/// Method (LIST included), path, query and headers minus hop-by-hop go upstream unchanged; bodies stream both ways;
/// Vault's answer, errors included, comes back unchanged, plus <c>X-Cache: MISS</c> below 400 as Vault Agent adds it.
/// </summary>
internal sealed partial class VaultForwarder : IVaultProxier
{
    private readonly IHttpForwarder _forwarder;
    private readonly VaultUpstream _upstream;
    private readonly RetryPolicy _retry;
    private readonly ConsistencyTracker _consistency;
    private readonly GatehouseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly VaultReachability? _reachability;
    private readonly UpstreamFailureLog _failureLog;
    private readonly UpstreamLimiter _limiter;
    private readonly ILogger<VaultForwarder> _logger;

    public VaultForwarder(
        IHttpForwarder forwarder,
        VaultUpstream upstream,
        RetryPolicy retry,
        ConsistencyTracker consistency,
        GatehouseMetrics metrics,
        TimeProvider time,
        UpstreamFailureLog failureLog,
        UpstreamLimiter limiter,
        ILogger<VaultForwarder> logger,
        VaultReachability? reachability = null)
    {
        _reachability = reachability;
        _failureLog = failureLog;
        _limiter = limiter;
        _forwarder = forwarder;
        _upstream = upstream;
        _retry = retry;
        _consistency = consistency;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Raised when a request starts waiting before a retry, after the wait's timer is armed (so advancing the clock by
    /// the delay ends it). Tests use it as the "forwarder is quiescent" signal.
    /// </summary>
    internal event Action<TimeSpan>? RetryWaiting;

    public async ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        // Step map: 1. wait for a turn with Vault (UpstreamLimiter; past the queue timeout → shed, 503); 2. attempt
        // through YARP, then give the turn back; 3. a retryable answer was held back → wait (holding no turn) and go
        // again; 4. a buffered answer → return it; 5. streamed → done; 6. a transport failure → retry when allowed,
        // else classify it.
        var context = request.Context;
        var maxRetries = request.IsReplayable ? _retry.MaxRetries : 0;
        var began = _time.GetUtcNow();

        // A redirect is followed once per request (see RedirectTarget); after that a 30x reaches the client.
        var mayRedirect = request.IsReplayable && IsRedirectableMethod(context.Request.Method);
        Uri? redirect = null;
        for (var attempt = 0; ; attempt++)
        {
            request.RewindBody();
            var turn = await _limiter.AcquireAsync(cancellationToken).ConfigureAwait(false);
            if (turn is null)
            {
                var shed = _limiter.ShedFailure;
                _metrics.UpstreamShed();
                _failureLog.Report(shed);
                return ProxyResult.Failed(shed.Kind, shed.Message);
            }

            AttemptTransformer transformer;
            ForwarderError error;
            using (turn)
            {
                // The turn covers the whole exchange, a streamed answer included: the connection is Vault's until then.
                transformer = new AttemptTransformer(this, request, attempt < maxRetries ? attempt + 1 : 0, began, _time.GetTimestamp(), mayRedirect && redirect is null, redirect);
                error = await _forwarder.SendAsync(
                    context, _upstream.DestinationPrefix, _upstream.Invoker, _upstream.RequestConfig, transformer, cancellationToken)
                    .ConfigureAwait(false);

                if (transformer.Masking is { } masking)
                {
                    // The answer streamed through the mask: release what it held back and give the client its body back.
                    context.Response.Body = masking.Inner;
                    if (error == ForwarderError.None)
                    {
                        await masking.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            TimeSpan delay;
            if (error == ForwarderError.None)
            {
                if (transformer.Unreadable is { } unreadable)
                {
                    context.Response.Clear();
                    return ProxyResult.Failed(ProxyFailureKind.UpstreamFailed, unreadable);
                }

                if (transformer.RedirectTo is { } target)
                {
                    Log.FollowingRedirect(_logger, transformer.StatusCode, target);
                    redirect = target;
                    context.Response.Clear();
                    attempt--;
                    continue;
                }

                if (transformer.RetryDelay is not { } retryDelay)
                {
                    return transformer.Buffered is { } buffered
                        ? ProxyResult.Buffered(buffered)
                        : ProxyResult.Streamed(context.Response.StatusCode);
                }

                delay = retryDelay;
                Log.RetryingStatus(_logger, transformer.StatusCode, attempt + 1, delay);
            }
            else
            {
                var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
                var failure = Classify(error, exception, cancellationToken);
                context.Features.Set<IForwarderErrorFeature>(null);
                if (failure.Kind is ProxyFailureKind.UpstreamUnreachable or ProxyFailureKind.UpstreamTimeout)
                {
                    _reachability?.ReportFailure();
                }

                if (!transformer.Responded && failure.Kind != ProxyFailureKind.ClientCanceled)
                {
                    request.UpstreamElapsed = _time.GetElapsedTime(transformer.StartedAt);
                    _metrics.UpstreamResponded(request.UpstreamElapsed.Value, ProxyOutcomeKind.Error);
                }

                if (failure.Kind != ProxyFailureKind.UpstreamFailed || attempt >= maxRetries || context.Response.HasStarted
                    || !TryPlanRetry(attempt + 1, null, null, began, out delay))
                {
                    // One line per kind per interval, not per request: an outage fails thousands a second.
                    _failureLog.Report(failure);
                    return ProxyResult.Failed(failure.Kind, failure.Message);
                }

                Log.RetryingError(_logger, error, attempt + 1, delay);
            }

            // YARP set the held-back attempt's status (and, after an error, its own); the next attempt starts clean.
            context.Response.Clear();
            _metrics.UpstreamRetry();
            var wait = Task.Delay(delay, _time, cancellationToken);
            RetryWaiting?.Invoke(delay);
            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Redirects are followed for idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE, and Vault's LIST); a POST
    /// or PATCH gets the 30x itself, since re-sending it elsewhere is the client's decision.
    /// </summary>
    internal static bool IsRedirectableMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsPut(method)
        || HttpMethods.IsDelete(method) || string.Equals(method, "LIST", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Where a 301/302/307/308 from Vault (a standby pointing at the active node) sends the request, or null when it is
    /// not followed: another status, no Location, a different scheme (never https → http, which would send the token in
    /// clear text; Vault's client refuses that downgrade too), or a different path or query. Only a redirect that moves
    /// the same request to another server is followed; one that changes what is asked (Go's 301 to a cleaned path for
    /// <c>//</c> or <c>..</c>) goes to the client, whose next request is then checked like any other.
    /// </summary>
    internal static Uri? RedirectTarget(int statusCode, Uri? requestUri, Uri? location)
    {
        if (statusCode is not (301 or 302 or 307 or 308) || requestUri is null || location is null)
        {
            return null;
        }

        var target = location.IsAbsoluteUri ? location : new Uri(requestUri, location);
        return string.Equals(target.Scheme, requestUri.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(target.PathAndQuery, requestUri.PathAndQuery, StringComparison.Ordinal)
            && !string.Equals(target.Authority, requestUri.Authority, StringComparison.OrdinalIgnoreCase)
                ? target
                : null;
    }

    /// <summary>
    /// The wait before <paramref name="retry"/>, and whether it ends within the budget for what Vault answered
    /// (<paramref name="statusCode"/>; null: the connection failed) counted from when the request <paramref name="began"/>.
    /// </summary>
    private bool TryPlanRetry(int retry, int? statusCode, TimeSpan? retryAfter, DateTimeOffset began, out TimeSpan delay)
    {
        delay = _retry.Delay(retry, retryAfter);
        return _time.GetUtcNow() + delay < began + _retry.BudgetFor(statusCode);
    }

    private ProxyFailure Classify(ForwarderError error, Exception? exception, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested
            || error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled)
        {
            return new ProxyFailure(ProxyFailureKind.ClientCanceled, "the client went away");
        }

        if (error is ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient)
        {
            return exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? new ProxyFailure(ProxyFailureKind.RequestTooLarge, "request body is larger than this listener's max_request_size")
                : new ProxyFailure(ProxyFailureKind.BadRequest, $"failed to read the request body: {exception?.Message}");
        }

        if (error == ForwarderError.RequestTimedOut)
        {
            return new ProxyFailure(
                ProxyFailureKind.UpstreamTimeout,
                $"Vault at {_upstream.Address} did not answer within {_upstream.RequestConfig.ActivityTimeout?.TotalSeconds:0.#}s");
        }

        if (error == ForwarderError.Request && IsConnectFailure(exception))
        {
            return new ProxyFailure(
                ProxyFailureKind.UpstreamUnreachable,
                $"cannot reach Vault at {_upstream.Address}: {Innermost(exception).Message}");
        }

        return new ProxyFailure(
            ProxyFailureKind.UpstreamFailed,
            $"the request to Vault at {_upstream.Address} failed: {(exception is null ? error.ToString() : Innermost(exception).Message)}");
    }

    /// <summary>Nothing was sent: there is no server (refused, no route, DNS, TLS handshake). Retrying would only delay the 502.</summary>
    private static bool IsConnectFailure(Exception? exception) =>
        exception is HttpRequestException
        {
            HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError,
        }
        || exception?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };

    private static Exception Innermost(Exception? exception)
    {
        var current = exception!;
        while (current.InnerException is not null)
        {
            current = current.InnerException;
        }

        return current;
    }

    /// <summary>
    /// One attempt's response handling. Holds back a retryable answer (nothing reaches the client), buffers the answer
    /// when the caller asked, and otherwise lets YARP copy status and headers and stream the body.
    /// </summary>
    private sealed class AttemptTransformer : HttpTransformer
    {
        private readonly VaultForwarder _owner;
        private readonly ProxyRequest _request;
        private readonly int _retryNumber;
        private readonly DateTimeOffset _began;

        private readonly bool _mayRedirect;
        private readonly Uri? _target;

        public AttemptTransformer(VaultForwarder owner, ProxyRequest request, int retryNumber, DateTimeOffset began, long startedAt, bool mayRedirect, Uri? target)
        {
            StartedAt = startedAt;
            _owner = owner;
            _request = request;
            _retryNumber = retryNumber;
            _began = began;
            _mayRedirect = mayRedirect;
            _target = target;
        }

        /// <summary>Set when Vault redirected and the redirect is to be followed: the next attempt goes there.</summary>
        public Uri? RedirectTo { get; private set; }

        public TimeSpan? RetryDelay { get; private set; }

        /// <summary>When this attempt was sent (a <see cref="TimeProvider"/> timestamp).</summary>
        public long StartedAt { get; }

        /// <summary>True once Vault's response headers arrived.</summary>
        public bool Responded { get; private set; }

        public int StatusCode { get; private set; }

        public BufferedResponse? Buffered { get; private set; }

        public override async ValueTask TransformRequestAsync(
            HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            if (_target is not null)
            {
                proxyRequest.RequestUri = _target;
            }
            else
            {
                // What the auto-auth path rules checked (VaultRoute) is what is sent.
                proxyRequest.RequestUri = ForwardedTarget.For(httpContext, destinationPrefix);
            }

            // With otlp_traces, Vault sees this request's span as the parent (the client's traceparent, copied with the
            // other headers, is replaced); without, no span exists and the headers go on as the client sent them.
            if (System.Diagnostics.Activity.Current is { } span && span.Source == GatehouseTracing.Source)
            {
                proxyRequest.Headers.Remove("traceparent");
                proxyRequest.Headers.Remove("tracestate");
                proxyRequest.Headers.TryAddWithoutValidation("traceparent", span.Id);
                if (!string.IsNullOrEmpty(span.TraceStateString))
                {
                    proxyRequest.Headers.TryAddWithoutValidation("tracestate", span.TraceStateString);
                }
            }

            // Vault's host, never the client's: the client's Host would set the TLS name (SNI and the certificate
            // check) and an ingress's routing, and an empty one (Go clients on a unix socket) makes Vault answer 400.
            proxyRequest.Headers.Host = null;
            if (_request.Guard is not null)
            {
                // An answer the guard reads must be readable: no compression.
                proxyRequest.Headers.AcceptEncoding.Clear();
            }

            var userAgent = ProxyUserAgent.For(httpContext.Request.Headers.UserAgent);
            proxyRequest.Headers.Remove(HeaderNames.UserAgent);
            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.UserAgent, userAgent);
        }

        public override async ValueTask<bool> TransformResponseAsync(
            HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is null)
            {
                return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
            }

            StatusCode = (int)proxyResponse.StatusCode;
            Responded = true;
            _owner._reachability?.ReportSuccess();
            _request.UpstreamElapsed = _owner._time.GetElapsedTime(StartedAt);
            _owner._metrics.UpstreamResponded(_request.UpstreamElapsed.Value, StatusCode < 400 ? ProxyOutcomeKind.Success : ProxyOutcomeKind.ClientError);
            _owner._consistency.Observe(proxyResponse);

            if (_mayRedirect && StatusCode is >= 301 and <= 308
                && RedirectTarget(StatusCode, proxyResponse.RequestMessage?.RequestUri, proxyResponse.Headers.Location) is { } target)
            {
                RedirectTo = target;
                return false;
            }

            if (_retryNumber > 0 && _owner._retry.IsRetryableStatus(StatusCode)
                && _owner.TryPlanRetry(_retryNumber, StatusCode, RetryPolicy.RetryAfter(proxyResponse.Headers, _owner._time.GetUtcNow()), _began, out var delay))
            {
                RetryDelay = delay;
                return false;
            }

            if (_request.Guard is not null && IsEncoded(proxyResponse.Content.Headers.ContentEncoding))
            {
                // Compressed despite the request asking for none: its bytes cannot be checked for the token.
                Unreadable = $"Vault's answer is content-encoded ({string.Join(",", proxyResponse.Content.Headers.ContentEncoding)}) and cannot be checked for the auto-auth token";
                return false;
            }

            if (ShouldReadWhole(httpContext, proxyResponse))
            {
                var body = IsBodyless(httpContext, StatusCode)
                    ? []
                    : await ReadAtMostAsync(proxyResponse, _request.BufferJsonUpTo, cancellationToken).ConfigureAwait(false);
                if (body is not null)
                {
                    Buffered = new BufferedResponse(StatusCode, CopyHeaders(proxyResponse), body);
                    return false;
                }
            }

            await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
            if (StatusCode < 400)
            {
                httpContext.Response.Headers["X-Cache"] = "MISS";
            }

            if (_request.Guard is { } guard)
            {
                Masking = new TokenMaskingStream(httpContext.Response.Body, guard);
                httpContext.Response.Body = Masking;
            }

            return true;
        }

        /// <summary>Set when the answer streamed through a mask; the forwarder completes it and puts the client's body back.</summary>
        public TokenMaskingStream? Masking { get; private set; }

        /// <summary>Set when the answer could not be checked for the token and must not reach the client.</summary>
        public string? Unreadable { get; private set; }

        /// <summary>
        /// Decided from the answer's headers: only a JSON answer, declared no larger than the caller's limit, is read
        /// whole (an answer without a body counts: the lease cache needs its status). Everything else streams.
        /// </summary>
        private bool ShouldReadWhole(HttpContext context, HttpResponseMessage response)
        {
            if (_request.BufferJsonUpTo <= 0)
            {
                return false;
            }

            if (IsBodyless(context, StatusCode))
            {
                return true;
            }

            return response.Content.Headers.ContentType?.MediaType is { } type
                && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
                && !(response.Content.Headers.ContentLength > _request.BufferJsonUpTo);
        }

        /// <summary>
        /// Reads the answer when it ends within <paramref name="limit"/> bytes. Past the limit (a chunked answer with no
        /// length), what was read is put back in front of the rest and null comes back: the answer then streams.
        /// </summary>
        private static async Task<byte[]?> ReadAtMostAsync(HttpResponseMessage response, long limit, CancellationToken cancellationToken)
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var (whole, rest) = await BoundedBody.ReadAsync(stream, limit, response.Content.Headers.ContentLength, cancellationToken).ConfigureAwait(false);
            if (whole is null)
            {
                var content = new StreamContent(rest!);
                foreach (var header in response.Content.Headers.NonValidated)
                {
                    content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                response.Content = content;
            }

            return whole;
        }

        private static bool IsBodyless(HttpContext context, int statusCode) =>
            HttpMethods.IsHead(context.Request.Method) || ProxyHandler.IsBodylessStatus(statusCode);

        private static bool IsEncoded(ICollection<string> contentEncoding) =>
            contentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase));

        private static List<KeyValuePair<string, string[]>> CopyHeaders(HttpResponseMessage response)
        {
            var headers = new List<KeyValuePair<string, string[]>>();
            foreach (var header in response.Headers.NonValidated)
            {
                if (!IsHopByHop(header.Key))
                {
                    headers.Add(new(header.Key, [.. header.Value]));
                }
            }

            foreach (var header in response.Content.Headers.NonValidated)
            {
                headers.Add(new(header.Key, [.. header.Value]));
            }

            return headers;
        }

        private static bool IsHopByHop(string name) =>
            name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase)
            || name.Equals("TE", StringComparison.OrdinalIgnoreCase);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.VaultForwarderRetryingStatus, LogLevel.Debug, "Vault answered {StatusCode}; retry {Retry} in {Delay}")]
        public static partial void RetryingStatus(ILogger logger, int statusCode, int retry, TimeSpan delay);

        [LoggerMessage(LogEvents.VaultForwarderRetryingError, LogLevel.Debug, "Request to Vault failed ({Error}); retry {Retry} in {Delay}")]
        public static partial void RetryingError(ILogger logger, ForwarderError error, int retry, TimeSpan delay);

        [LoggerMessage(LogEvents.VaultForwarderFollowingRedirect, LogLevel.Debug, "Vault answered {StatusCode}; following the redirect to {Target} once")]
        public static partial void FollowingRedirect(ILogger logger, int statusCode, Uri target);
    }
}
