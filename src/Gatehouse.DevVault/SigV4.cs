using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.DevVault;

/// <summary>
/// AWS Signature Version 4 as STS checks it, written from AWS's published description so that DevVault's aws backend
/// checks Gatehouse's SDK-signed requests independently of the SDK (tests hold it to AWS's published test vectors).
/// Only what a signed <c>GetCallerIdentity</c> needs: header signing (no presigned query strings, no chunked bodies).
/// </summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>A parsed <c>Authorization</c> header.</summary>
    internal sealed record Authorization(string AccessKeyId, string Date, string Region, string Service, IReadOnlyList<string> SignedHeaders, string Signature);

    /// <summary>Parses <c>AWS4-HMAC-SHA256 Credential=…/date/region/service/aws4_request, SignedHeaders=…, Signature=…</c>.</summary>
    public static Authorization? ParseAuthorization(string? header)
    {
        if (header is null || !header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = header[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (!parts.TryGetValue("Credential", out var credential) || !parts.TryGetValue("SignedHeaders", out var signed)
            || !parts.TryGetValue("Signature", out var signature))
        {
            return null;
        }

        var scope = credential.Split('/');
        return scope is [var key, var date, var region, var service, "aws4_request"]
            ? new Authorization(key, date, region, service, signed.Split(';'), signature)
            : null;
    }

    /// <summary>
    /// The signature of a request: <paramref name="headers"/> by lower-case name (several values joined by commas),
    /// the host taken from <paramref name="url"/> when no Host header was sent (as HTTP clients add it).
    /// </summary>
    public static string Sign(string secretKey, string method, Uri url, IReadOnlyDictionary<string, string> headers,
        IReadOnlyList<string> signedHeaders, byte[] body, string amzDate, string date, string region, string service)
    {
        var canonical = CanonicalRequest(method, url, headers, signedHeaders, body);
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = SigningKey(secretKey, date, region, service);
        return Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    public static string CanonicalRequest(string method, Uri url, IReadOnlyDictionary<string, string> headers, IReadOnlyList<string> signedHeaders, byte[] body)
    {
        var sb = new StringBuilder();
        sb.Append(method).Append('\n');
        sb.Append(CanonicalPath(url.AbsolutePath)).Append('\n');
        sb.Append(CanonicalQuery(url.Query)).Append('\n');
        foreach (var name in signedHeaders)
        {
            var value = headers.TryGetValue(name, out var v) ? v
                : name == "host" ? (url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}") : "";
            sb.Append(name).Append(':').Append(string.Join(' ', value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');
        }

        sb.Append('\n').Append(string.Join(';', signedHeaders)).Append('\n');
        sb.Append(Hex(SHA256.HashData(body)));
        return sb.ToString();
    }

    public static byte[] SigningKey(string secretKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
    }

    public static bool TryParseAmzDate(string? value, out DateTimeOffset when) =>
        DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out when);

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static string CanonicalPath(string path) =>
        path.Length == 0 ? "/" : string.Join('/', path.Split('/').Select(s => Encode(Uri.UnescapeDataString(s))));

    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }

        return string.Join('&', query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Key: Encode(Uri.UnescapeDataString(p[0])), Value: Encode(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));
    }

    // RFC 3986 unreserved characters stay; everything else is %XX in upper case.
    private static string Encode(string value)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }
}
