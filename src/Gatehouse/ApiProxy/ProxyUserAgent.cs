using Microsoft.Extensions.Primitives;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The <c>User-Agent</c> sent upstream for proxied requests: <c>Gatehouse API Proxy/&lt;version&gt;</c>, followed by
/// <c>; &lt;client's User-Agent&gt;</c> when the client sent one. Vault Proxy does the same with
/// <c>Vault Proxy API Proxy/&lt;version&gt; (+https://www.vaultproject.io/; go…); &lt;client&gt;</c>; keeping the client's
/// value at the end lets audit-log filters on it keep working.
/// </summary>
/// <remarks>
/// Cheap on the hot path: the prefix alone is a constant, and the combined value for the last client User-Agent seen
/// is remembered (clients almost always send the same one), so the usual request allocates nothing here.
/// </remarks>
internal static class ProxyUserAgent
{
    public static readonly string Prefix = "Gatehouse API Proxy/" + ProductInfo.Version;

    private static Combined? s_last;

    public static string For(StringValues client)
    {
        if (StringValues.IsNullOrEmpty(client))
        {
            return Prefix;
        }

        var value = client.Count == 1 ? client[0]! : client.ToString();
        var last = Volatile.Read(ref s_last);
        if (last is not null && string.Equals(last.Client, value, StringComparison.Ordinal))
        {
            return last.Value;
        }

        var combined = new Combined(value, Prefix + "; " + value);
        Volatile.Write(ref s_last, combined);
        return combined.Value;
    }

    private sealed record Combined(string Client, string Value);
}
