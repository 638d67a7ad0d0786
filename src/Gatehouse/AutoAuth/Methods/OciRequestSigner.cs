using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// OCI's request signature (draft-cavage HTTP Signatures, version 1, <c>rsa-sha256</c>) for a request without a
/// body, as the OCI Go SDK's default signer makes it for a GET: the signed headers are <c>date (request-target) host</c>,
/// the signing string is one <c>name: value</c> line per header joined by <c>\n</c>, the signature is RSASSA-PKCS1-v1_5
/// over SHA-256 of that string, and <c>Authorization</c> reads
/// <c>Signature version="1",headers="date (request-target) host",keyId="…",algorithm="rsa-sha256",signature="…"</c>.
/// The key id is <c>&lt;tenancy&gt;/&lt;user&gt;/&lt;fingerprint&gt;</c> for an API key and <c>ST$&lt;token&gt;</c> for
/// a security token.
/// </summary>
internal static class OciRequestSigner
{
    /// <summary>The headers the Go SDK signs on a request without a body, in its order.</summary>
    public static readonly IReadOnlyList<string> SignedHeaders = ["date", "(request-target)", "host"];

    /// <summary>The signing string for a bodiless request: <c>date: …\n(request-target): get /path\nhost: …</c>.</summary>
    public static string SigningString(string date, string method, string pathAndQuery, string host) =>
        $"date: {date}\n(request-target): {RequestTarget(method, pathAndQuery)}\nhost: {host}";

    /// <summary>The <c>(request-target)</c> pseudo-header: lower-case method, a space, the path and query.</summary>
    public static string RequestTarget(string method, string pathAndQuery) =>
        $"{method.ToLowerInvariant()} {pathAndQuery}";

    /// <summary>An HTTP date as Go's <c>http.TimeFormat</c> writes it: <c>Thu, 05 Jan 2014 21:31:40 GMT</c>.</summary>
    public static string HttpDate(DateTimeOffset time) => time.UtcDateTime.ToString("r", CultureInfo.InvariantCulture);

    /// <summary>Base64 of the RSA-SHA256 (PKCS#1 v1.5) signature of <paramref name="signingString"/>.</summary>
    public static string Signature(RSA key, string signingString) =>
        Convert.ToBase64String(key.SignData(Encoding.UTF8.GetBytes(signingString), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    /// <summary>The <c>Authorization</c> header value for a bodiless request.</summary>
    public static string Authorization(string keyId, string signature) => Authorization(keyId, SignedHeaders, signature);

    /// <summary>The <c>Authorization</c> header value naming <paramref name="headers"/> as the signed headers.</summary>
    public static string Authorization(string keyId, IEnumerable<string> headers, string signature) =>
        $"Signature version=\"1\",headers=\"{string.Join(' ', headers)}\",keyId=\"{keyId}\",algorithm=\"rsa-sha256\",signature=\"{signature}\"";

    /// <summary>
    /// The <c>Authorization</c> for a request whose signed headers are <paramref name="headers"/> (lower-case names, in
    /// order, with their values): the signing string is one <c>name: value</c> line per header.
    /// </summary>
    public static string Authorization(RSA key, string keyId, IReadOnlyList<KeyValuePair<string, string>> headers) =>
        Authorization(keyId, headers.Select(h => h.Key), Signature(key, string.Join('\n', headers.Select(h => $"{h.Key}: {h.Value}"))));

    /// <summary>
    /// Signs <c>method pathAndQuery</c> to <paramref name="host"/> at <paramref name="date"/>: the <c>Date</c> and
    /// <c>Authorization</c> headers the request carries.
    /// </summary>
    public static (string Date, string Authorization) Sign(RSA key, string keyId, string method, string pathAndQuery, string host, DateTimeOffset date)
    {
        var httpDate = HttpDate(date);
        var signature = Signature(key, SigningString(httpDate, method, pathAndQuery, host));
        return (httpDate, Authorization(keyId, signature));
    }
}
