using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// Alibaba Cloud's RPC (POP) signature, version 1.0, as alibaba-cloud-sdk-go signs RPC calls (<c>signRpcRequest</c>):
/// the parameters sorted by name (ordinal), each name and value percent-encoded with RFC 3986's unreserved set
/// (<c>A–Z a–z 0–9 - _ . ~</c> kept, space as <c>%20</c>, everything else <c>%XX</c> in upper case), joined as
/// <c>k=v&amp;…</c>; the string to sign is <c>METHOD&amp;%2F&amp;</c> + that query percent-encoded once more; the
/// signature is base64 of HMAC-SHA1 keyed with <c>secret&amp;</c> (or SHA256withRSA for an RSA key pair session).
/// No Alibaba Cloud SDK is served on NuGet; this is held to Alibaba's published example and the Go SDK's own test
/// vectors (<c>AlicloudRpcSignerTests</c>).
/// </summary>
internal static class AlicloudRpcSigner
{
    /// <summary>Percent-encoding of Alibaba's POP: RFC 3986 unreserved characters kept, the rest as UTF-8 <c>%XX</c>.</summary>
    public static string PercentEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>The canonicalized query: sorted by name (ordinal, as Go's <c>sort.Strings</c>), POP-encoded.</summary>
    public static string CanonicalQuery(IReadOnlyDictionary<string, string> parameters) =>
        string.Join('&', parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{PercentEncode(p.Key)}={PercentEncode(p.Value)}"));

    public static string StringToSign(string method, IReadOnlyDictionary<string, string> parameters) =>
        $"{method}&%2F&{PercentEncode(CanonicalQuery(parameters))}";

    /// <summary>HMAC-SHA1 over the string to sign, keyed with <c>secret + "&amp;"</c>, base64.</summary>
#pragma warning disable CA5350 // HMAC-SHA1 is what Alibaba's signature version 1.0 is; STS accepts nothing else for it.
    public static string HmacSha1(string method, IReadOnlyDictionary<string, string> parameters, string accessKeySecret) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(accessKeySecret + "&"),
            Encoding.UTF8.GetBytes(StringToSign(method, parameters))));
#pragma warning restore CA5350

    /// <summary>SHA256withRSA (PKCS#1 v1.5) over the string to sign, base64: the RSA key pair session's signature.</summary>
    public static string Sha256WithRsa(string method, IReadOnlyDictionary<string, string> parameters, RSA key) =>
        Convert.ToBase64String(key.SignData(Encoding.UTF8.GetBytes(StringToSign(method, parameters)), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1));

    /// <summary>
    /// A query string as Go's <c>url.Values.Encode</c> writes it (the SDK builds its URLs so): sorted by name,
    /// <c>url.QueryEscape</c> (space as <c>+</c>).
    /// </summary>
    public static string GoQuery(IReadOnlyDictionary<string, string> parameters) =>
        string.Join('&', parameters.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{QueryEscape(p.Key)}={QueryEscape(p.Value)}"));

    /// <summary>Go's <c>url.QueryEscape</c>: the POP encoding, except that a space is <c>+</c>.</summary>
    public static string QueryEscape(string value) => PercentEncode(value).Replace("%20", "+", StringComparison.Ordinal);
}
