using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatehouse.ApiProxy;

namespace Gatehouse.Cache;

/// <summary>
/// A stored upstream answer, ready to replay: status, the header array (without Date, Age, Content-Length and
/// X-Cache, which every hit sets afresh) and the body bytes. The positions of <c>lease_duration</c> and
/// <c>auth.lease_duration</c> are found once at store time so a hit can splice in the remaining TTL without parsing.
/// </summary>
internal sealed class CachedResponse
{
    private static readonly HashSet<string> PerHitHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Age", "Content-Length", "X-Cache",
    };

    private static readonly string[] HitValue = ["HIT"];

    private AdjustedBody? _lastAdjusted;
    private HitMemo? _lastHit;

    /// <param name="authTtl">Adjust <c>auth.lease_duration</c> (a token) rather than the top-level one (a lease).</param>
    public CachedResponse(int statusCode, IReadOnlyList<KeyValuePair<string, string[]>> headers, byte[] body, bool authTtl)
    {
        AuthTtl = authTtl;
        StatusCode = statusCode;
        Headers = headers.Where(h => !PerHitHeaders.Contains(h.Key)).ToArray();
        Body = body;
        TtlSpans = FindLeaseDuration(body, authTtl);
    }

    public int StatusCode { get; }

    public bool AuthTtl { get; }

    public KeyValuePair<string, string[]>[] Headers { get; }

    public byte[] Body { get; }

    /// <summary>Where the <c>lease_duration</c> numbers sit in <see cref="Body"/> (start, length), in order.</summary>
    public (int Start, int Length)[] TtlSpans { get; }

    /// <summary>Bytes this entry costs the <c>max_bytes</c> bound (body plus headers, roughly).</summary>
    public long Size => Body.Length + Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v.Length)) + 64;

    /// <summary>
    /// The answer for a hit: the stored status, headers and body plus <c>Date</c>, <c>Age</c> and <c>X-Cache: HIT</c>,
    /// with the remaining TTL spliced in. All three values change at most once a second, so the last answer built is
    /// kept and shared (it is immutable): a hit within the same second allocates nothing here.
    /// </summary>
    public BufferedResponse HitResponse(string date, long ageSeconds, long remainingSeconds)
    {
        var last = Volatile.Read(ref _lastHit);
        if (last is not null && last.Age == ageSeconds && last.Remaining == remainingSeconds && ReferenceEquals(last.Date, date))
        {
            return last.Response;
        }

        var headers = new KeyValuePair<string, string[]>[Headers.Length + 3];
        Headers.CopyTo(headers, 0);
        var i = Headers.Length;
        headers[i++] = new("Date", [date]);
        headers[i++] = new("Age", [ageSeconds.ToString(CultureInfo.InvariantCulture)]);
        headers[i] = new("X-Cache", HitValue);
        var response = new BufferedResponse(StatusCode, headers, BodyWithTtl(remainingSeconds));
        Volatile.Write(ref _lastHit, new HitMemo(date, ageSeconds, remainingSeconds, response));
        return response;
    }

    /// <summary>
    /// The body with each <c>lease_duration</c> set to <paramref name="remainingSeconds"/>. The last result is kept,
    /// so hits within the same second share one array.
    /// </summary>
    public byte[] BodyWithTtl(long remainingSeconds)
    {
        if (TtlSpans.Length == 0)
        {
            return Body;
        }

        var last = Volatile.Read(ref _lastAdjusted);
        if (last is not null && last.Seconds == remainingSeconds)
        {
            return last.Body;
        }

        var number = Encoding.ASCII.GetBytes(remainingSeconds.ToString(CultureInfo.InvariantCulture));
        var delta = number.Length * TtlSpans.Length - TtlSpans.Sum(s => s.Length);
        var result = new byte[Body.Length + delta];
        int from = 0, to = 0;
        foreach (var (start, length) in TtlSpans)
        {
            Body.AsSpan(from, start - from).CopyTo(result.AsSpan(to));
            to += start - from;
            number.CopyTo(result.AsSpan(to));
            to += number.Length;
            from = start + length;
        }

        Body.AsSpan(from).CopyTo(result.AsSpan(to));
        Volatile.Write(ref _lastAdjusted, new AdjustedBody(remainingSeconds, result));
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

    private sealed record AdjustedBody(long Seconds, byte[] Body);

    private sealed record HitMemo(string Date, long Age, long Remaining, BufferedResponse Response);
}
