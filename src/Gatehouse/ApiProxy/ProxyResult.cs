namespace Gatehouse.ApiProxy;

internal enum ProxyOutcome
{
    /// <summary>The upstream answer (any status, errors included) was written to the client as it arrived.</summary>
    Streamed,

    /// <summary>The upstream answer is in <see cref="ProxyResult.Response"/>; the caller writes it.</summary>
    Buffered,

    /// <summary>No upstream answer: <see cref="ProxyResult.Failure"/> says why, and <see cref="ProxyErrorWriter"/> answers.</summary>
    Failed,
}

/// <summary>What an <see cref="IVaultProxier"/> returns: a value, never an exception, for expected outcomes.</summary>
internal readonly record struct ProxyResult(ProxyOutcome Outcome, int StatusCode, BufferedResponse? Response, ProxyFailure? Failure)
{
    public static ProxyResult Streamed(int statusCode) => new(ProxyOutcome.Streamed, statusCode, null, null);

    public static ProxyResult Buffered(BufferedResponse response) => new(ProxyOutcome.Buffered, response.StatusCode, response, null);

    public static ProxyResult Failed(ProxyFailureKind kind, string message) =>
        new(ProxyOutcome.Failed, ProxyErrorWriter.StatusCodeFor(kind), null, new ProxyFailure(kind, message));
}

/// <summary>An upstream answer held in memory: status, headers (hop-by-hop already removed) and body.</summary>
internal sealed record BufferedResponse(int StatusCode, IReadOnlyList<KeyValuePair<string, string[]>> Headers, ReadOnlyMemory<byte> Body);

internal enum ProxyFailureKind
{
    /// <summary>Vault could not be reached (connection refused, DNS, TLS handshake): 502.</summary>
    UpstreamUnreachable,

    /// <summary>The connection failed after the request was sent, or the answer was cut short: 502.</summary>
    UpstreamFailed,

    /// <summary>Vault did not answer in time: 504.</summary>
    UpstreamTimeout,

    /// <summary>Before the first auto-auth login completed, no token could be chosen: 503.</summary>
    TokenUnavailable,

    /// <summary>The request body is larger than the listener allows: 413.</summary>
    RequestTooLarge,

    /// <summary>The client sent a body that could not be read (malformed chunking, too slow): 400.</summary>
    BadRequest,

    /// <summary>The client went away; nothing is written.</summary>
    ClientCanceled,

    /// <summary>Gatehouse will not pass this answer on (a wrapping token that would unwrap to the auto-auth token): 403.</summary>
    Refused,

    /// <summary>
    /// Too many requests were waiting for Vault: this one waited <c>api_proxy.upstream_queue_timeout</c> for a turn and
    /// was never sent: 503 with <c>Retry-After</c>.
    /// </summary>
    Overloaded,

    /// <summary>Gatehouse could not process Vault's answer (for example, redaction of a malformed body): 500.</summary>
    Internal,
}

internal sealed record ProxyFailure(ProxyFailureKind Kind, string Message);
