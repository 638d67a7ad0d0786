using System.Buffers;
using Gatehouse.AutoAuth;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.ApiProxy;

/// <summary>
/// One client request on its way to Vault, after the request-shaping steps (token choice, consistency headers).
/// The headers to send are the <see cref="Context"/>'s request headers; shaping edits them in place.
/// </summary>
internal sealed class ProxyRequest
{
    private byte[]? _bytes;
    private MemoryStream? _replay;
    private bool _tooLarge;

    public ProxyRequest(HttpContext context) => Context = context;

    public HttpContext Context { get; }

    /// <summary>The token the request carries upstream after token choice, or null when it carries none.</summary>
    public string? Token { get; set; }

    /// <summary>True when <see cref="Token"/> is the auto-auth token that Gatehouse put there.</summary>
    public bool UsesAutoAuthToken => AutoAuthToken is not null;

    /// <summary>The auto-auth token snapshot Gatehouse put on the request, or null when it carries the client's own (or none).</summary>
    public AutoAuthToken? AutoAuthToken { get; set; }

    /// <summary>
    /// Set by a caller that must inspect JSON answers (the lease cache, the token guard): the forwarder reads a JSON
    /// answer of at most this many bytes whole into a <see cref="BufferedResponse"/>. Every other answer (not JSON,
    /// larger, a stream such as <c>sys/monitor</c>) goes to the client as it arrives. Zero: nothing is read whole.
    /// </summary>
    public long BufferJsonUpTo { get; set; }

    /// <summary>Set when the request carries the auto-auth token upstream: no answer may carry it back.</summary>
    public TokenGuard? Guard { get; set; }

    /// <summary>Set by the lease cache when the answer came from it (a hit), for metrics and the request log line.</summary>
    public bool ServedFromCache { get; set; }

    /// <summary>With <see cref="ServedFromCache"/>: which cache answered, <c>lease</c> or <c>static</c> (the metrics' <c>kind</c> label).</summary>
    public string CacheKind { get; set; } = "lease";

    /// <summary>Set by the forwarder: time from sending the last attempt to Vault to its response headers.</summary>
    public TimeSpan? UpstreamElapsed { get; set; }

    /// <summary>The whole request body once <see cref="BufferBodyAsync"/> has read it; empty for a body-less request.</summary>
    public ReadOnlyMemory<byte>? Body { get; private set; }

    /// <summary>True when the body can be sent more than once (retries): it is buffered or there is none.</summary>
    public bool IsReplayable => Body is not null || !HasBody(Context.Request);

    /// <summary>
    /// Reads the whole request body when it is at most <paramref name="limit"/> bytes, and makes the request replay it.
    /// Returns false, with the body still streaming, for a larger one: a declared length is checked first; a chunked
    /// body is read only when <paramref name="evenChunked"/>, and only up to the limit, after which what was read is
    /// put back in front of the rest, so memory stays bounded whatever a client sends.
    /// </summary>
    public async ValueTask<bool> BufferBodyAsync(long limit, bool evenChunked, CancellationToken cancellationToken)
    {
        if (Body is not null)
        {
            return true;
        }

        if (_tooLarge)
        {
            return false;
        }

        var request = Context.Request;
        if (!HasBody(request))
        {
            Body = ReadOnlyMemory<byte>.Empty;
            return true;
        }

        byte[] bytes;
        if (request.ContentLength is { } length)
        {
            if (length > limit)
            {
                return false;
            }

            bytes = new byte[length];
            await request.Body.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        else if (evenChunked)
        {
            var (whole, rest) = await BoundedBody.ReadAsync(request.Body, limit, sizeHint: null, cancellationToken).ConfigureAwait(false);
            if (whole is null)
            {
                // Over the limit: the bytes read go first, the rest follows from the client as it comes.
                _tooLarge = true;
                request.Body = rest!;
                return false;
            }

            bytes = whole;
        }
        else
        {
            return false;
        }

        Body = _bytes = bytes;
        return true;
    }

    /// <summary>
    /// Makes <c>Request.Body</c> replay a buffered body from its start; every attempt to send the request calls it.
    /// The replay stream is made on first use, so a request answered without forwarding (a cache hit) never needs one.
    /// </summary>
    public void RewindBody()
    {
        if (_bytes is null)
        {
            return;
        }

        if (_replay is null)
        {
            // The forwarder reads Request.Body; a fixed buffer lets every attempt send the same bytes.
            _replay = new MemoryStream(_bytes, writable: false);
            Context.Request.Body = _replay;
        }
        else
        {
            _replay.Position = 0;
        }
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
}
