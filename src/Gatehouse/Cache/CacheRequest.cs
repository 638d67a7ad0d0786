namespace Gatehouse.Cache;

/// <summary>
/// What the lease cache needs to know about one proxied request, independent of ASP.NET: the decorator builds it
/// from the <c>HttpContext</c>, tests build it directly.
/// </summary>
internal sealed class CacheRequest
{
    public CacheRequest(string method, string path, string? query, string? @namespace, string? token, ReadOnlyMemory<byte> body, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        Method = method;
        Path = path;
        Query = string.IsNullOrEmpty(query) ? null : query.TrimStart('?');
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
        Token = string.IsNullOrEmpty(token) ? null : token;
        Body = body;
        Headers = headers ?? [];
    }

    /// <summary>GET, PUT, POST, LIST, ...</summary>
    public string Method { get; }

    /// <summary>The URL path as received, including <c>/v1</c>.</summary>
    public string Path { get; }

    /// <summary>The query string without '?', or null.</summary>
    public string? Query { get; }

    /// <summary>The raw <c>X-Vault-Namespace</c> request header, or null.</summary>
    public string? Namespace { get; }

    /// <summary>The token the request carries upstream after token choice.</summary>
    public string? Token { get; }

    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The request's headers (all of them; <see cref="CacheKey"/> picks the ones that change Vault's answer).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The namespace as the index stores it: the raw header, or <c>root/</c> when absent (as Vault).</summary>
    public string IndexNamespace => Namespace ?? "root/";

    /// <summary>The path cleaned as the forwarder's upstream sees it: no <c>//</c>, <c>.</c>, <c>..</c> or trailing slash.</summary>
    public string NormalizedPath => _normalizedPath ??= CachePaths.Normalize(Path);

    private string? _normalizedPath;
}
