using System.Globalization;
using System.Text.Json;
using Gatehouse.ApiProxy;

namespace Gatehouse.Cache;

/// <summary>
/// A stored upstream answer, ready to replay: status, the header array (without Date, Age, Content-Length and
/// X-Cache, which every hit sets afresh) and the body bytes. The positions of <c>lease_duration</c> and
/// <c>auth.lease_duration</c> are found once at store time so a hit can splice in the remaining TTL without parsing.
/// </summary>
/// <remarks>
/// Compact, because a cache holds many of these: the body is the one buffer of its own; the header array is shared
/// with every other answer that has the same headers (<see cref="SharedHeaders"/>); the single TTL position is held
/// in two fields, not an array; and a hit answer is kept only while the entry is hot (see <see cref="HitResponse"/>).
/// </remarks>
internal sealed class CachedResponse
{
    private static readonly HashSet<string> PerHitHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Age", "Content-Length", "X-Cache",
    };

    private static readonly KeyValuePair<string, string[]> HitHeader = new("X-Cache", ["HIT"]);

    /// <summary>The one <c>lease_duration</c> number (start, length), or start -1 when there is none or more than one.</summary>
    private readonly int _ttlStart = -1;
    private readonly int _ttlLength;

    /// <summary>Only when the body holds more than one <c>lease_duration</c> (duplicate keys): all of them, in order.</summary>
    private readonly (int Start, int Length)[]? _ttlSpans;

    private HitMemo? _lastHit;
    private long _lastHitSecond = long.MinValue;

    /// <param name="authTtl">Adjust <c>auth.lease_duration</c> (a token) rather than the top-level one (a lease).</param>
    public CachedResponse(int statusCode, IReadOnlyList<KeyValuePair<string, string[]>> headers, byte[] body, bool authTtl)
    {
        AuthTtl = authTtl;
        StatusCode = statusCode;
        Headers = SharedHeaders.Share([.. headers.Where(h => !PerHitHeaders.Contains(h.Key))]);
        Body = body;
        var spans = FindLeaseDuration(body, authTtl);
        if (spans.Length == 1)
        {
            (_ttlStart, _ttlLength) = spans[0];
        }
        else if (spans.Length > 1)
        {
            _ttlSpans = spans;
        }
    }

    public int StatusCode { get; }

    public bool AuthTtl { get; }

    /// <summary>Shared with other answers (<see cref="SharedHeaders"/>): never written to.</summary>
    public KeyValuePair<string, string[]>[] Headers { get; }

    public byte[] Body { get; }

    /// <summary>Where the <c>lease_duration</c> numbers sit in <see cref="Body"/> (start, length), in order (tests, diagnostics).</summary>
    public (int Start, int Length)[] TtlSpans => _ttlSpans ?? (_ttlStart < 0 ? [] : [(_ttlStart, _ttlLength)]);

    /// <summary>True while a hit answer is kept for reuse (tests).</summary>
    internal bool HoldsHitAnswer => Volatile.Read(ref _lastHit) is not null;

    /// <summary>Bytes this entry costs the <c>max_bytes</c> bound (body plus headers, roughly).</summary>
    public long Size => Body.Length + Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v.Length)) + 64;

    /// <summary>
    /// The answer for a hit: the stored status, headers and body plus <c>Date</c>, <c>Age</c> and <c>X-Cache: HIT</c>,
    /// with the remaining TTL spliced in. All three values change at most once a second, so the answer built is kept
    /// and shared (it is immutable): further hits within the same second allocate nothing here. It is kept only when
    /// the entry was also hit in this or the previous second, so an entry hit now and then (most of many cached child
    /// tokens) keeps no second copy of its body; a hot one builds one answer a second.
    /// </summary>
    public BufferedResponse HitResponse(HitClock clock, long ageSeconds, long remainingSeconds)
    {
        var last = Volatile.Read(ref _lastHit);
        if (last is not null && last.Second == clock.Second && last.Age == ageSeconds && last.Remaining == remainingSeconds)
        {
            return last.Response;
        }

        var headers = new KeyValuePair<string, string[]>[Headers.Length + 3];
        Headers.CopyTo(headers, 0);
        var i = Headers.Length;
        headers[i++] = clock.DateHeader;
        headers[i++] = new("Age", [ageSeconds.ToString(CultureInfo.InvariantCulture)]);
        headers[i] = HitHeader;
        var response = new BufferedResponse(StatusCode, headers, BodyWithTtl(remainingSeconds));
        var hot = Interlocked.Exchange(ref _lastHitSecond, clock.Second) >= clock.Second - 1;
        Volatile.Write(ref _lastHit, hot ? new HitMemo(clock.Second, ageSeconds, remainingSeconds, response) : null);
        return response;
    }

    /// <summary>The body with each <c>lease_duration</c> set to <paramref name="remainingSeconds"/> (the stored body when there is none).</summary>
    public byte[] BodyWithTtl(long remainingSeconds)
    {
        if (_ttlStart < 0 && _ttlSpans is null)
        {
            return Body;
        }

        Span<byte> number = stackalloc byte[20];
        remainingSeconds.TryFormat(number, out var digits, default, CultureInfo.InvariantCulture);
        number = number[..digits];
        if (_ttlSpans is null)
        {
            var single = new byte[Body.Length + digits - _ttlLength];
            Body.AsSpan(0, _ttlStart).CopyTo(single);
            number.CopyTo(single.AsSpan(_ttlStart));
            Body.AsSpan(_ttlStart + _ttlLength).CopyTo(single.AsSpan(_ttlStart + digits));
            return single;
        }

        var delta = (digits * _ttlSpans.Length) - _ttlSpans.Sum(s => s.Length);
        var result = new byte[Body.Length + delta];
        int from = 0, to = 0;
        foreach (var (start, length) in _ttlSpans)
        {
            Body.AsSpan(from, start - from).CopyTo(result.AsSpan(to));
            to += start - from;
            number.CopyTo(result.AsSpan(to));
            to += digits;
            from = start + length;
        }

        Body.AsSpan(from).CopyTo(result.AsSpan(to));
        return result;
    }

    private static (int, int)[] FindLeaseDuration(byte[] body, bool authTtl)
    {
        var spans = new List<(int, int)>(2);
        try
        {
            var reader = new Utf8JsonReader(body);
            var inAuth = false;
            var authDepth = -1;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    var depth = reader.CurrentDepth;
                    var topLevel = depth == 1;
                    if (topLevel && reader.ValueTextEquals("auth"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            inAuth = true;
                            authDepth = reader.CurrentDepth;
                        }

                        continue;
                    }

                    if ((authTtl ? inAuth && depth == authDepth + 1 : topLevel) && reader.ValueTextEquals("lease_duration"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Number)
                        {
                            spans.Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length));
                        }

                        continue;
                    }
                }
                else if (inAuth && reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == authDepth)
                {
                    inAuth = false;
                }
            }
        }
        catch (JsonException)
        {
            return [];
        }

        return [.. spans];
    }

    private sealed record HitMemo(long Second, long Age, long Remaining, BufferedResponse Response);
}
