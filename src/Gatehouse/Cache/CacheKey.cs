using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Cache;

/// <summary>
/// The identity of a request for the cache: SHA-256 over a length-prefixed canonical encoding of the method, the
/// normalised path, the sorted query, the namespace, the resolved token, the <c>X-Vault-*</c> headers that change
/// Vault's answer, and the body. Length prefixes make the encoding injective, and SHA-256 makes a false hit
/// practically impossible (no collision has ever been found). Unlike Vault, headers such as <c>User-Agent</c> do
/// not split the cache.
/// </summary>
internal readonly record struct CacheKey(ulong A, ulong B, ulong C, ulong D)
{
    /// <summary>Headers that never change the answer: consistency plumbing, the CSRF marker, and the token and
    /// namespace headers, which the key already holds in resolved form.</summary>
    private static readonly HashSet<string> IgnoredVaultHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        VaultHeaders.Index, VaultHeaders.Forward, VaultHeaders.Inconsistent, VaultHeaders.Request, VaultHeaders.Token, VaultHeaders.Namespace,
    };

    public static CacheKey Compute(CacheRequest request)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(EstimateSize(request));
        try
        {
            var length = Encode(request, buffer);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer.AsSpan(0, length), hash);
            return new CacheKey(
                BinaryPrimitives.ReadUInt64LittleEndian(hash),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>True for request headers that take part in the key.</summary>
    public static bool IsKeyHeader(string name) =>
        name.StartsWith(VaultHeaders.Prefix, StringComparison.OrdinalIgnoreCase) && !IgnoredVaultHeaders.Contains(name);

    public override string ToString() => $"{A:x16}{B:x16}{C:x16}{D:x16}";

    public static CacheKey Parse(string hex) => new(
        Convert.ToUInt64(hex[..16], 16), Convert.ToUInt64(hex[16..32], 16), Convert.ToUInt64(hex[32..48], 16), Convert.ToUInt64(hex[48..64], 16));

    /// <summary>A random key for entries that no request can hit (the registered auto-auth token).</summary>
    public static CacheKey Random()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return new CacheKey(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
    }

    private static int EstimateSize(CacheRequest request)
    {
        var size = 64 + (Encoding.UTF8.GetMaxByteCount(request.Method.Length + request.Path.Length + (request.Query?.Length ?? 0)
            + (request.Namespace?.Length ?? 0) + (request.Token?.Length ?? 0)) * 2) + request.Body.Length;
        // Indexed loops: foreach over the IReadOnlyList would allocate an enumerator per request.
        var all = request.Headers;
        for (var i = 0; i < all.Count; i++)
        {
            size += 16 + Encoding.UTF8.GetMaxByteCount(all[i].Key.Length + all[i].Value.Length);
        }

        return size;
    }

    private static int Encode(CacheRequest request, byte[] buffer)
    {
        var position = 0;
        WriteString(buffer, ref position, request.Method.ToUpperInvariant());
        WriteString(buffer, ref position, request.NormalizedPath);
        WriteString(buffer, ref position, SortQuery(request.Query));
        WriteString(buffer, ref position, request.Namespace?.Trim('/') ?? "");
        WriteString(buffer, ref position, request.Token ?? "");

        // Key headers, sorted by lower-cased name then value; a count first so headers and body cannot run together.
        List<(string Name, string Value)>? headers = null;
        var all = request.Headers;
        for (var i = 0; i < all.Count; i++)
        {
            var (name, value) = all[i];
            if (IsKeyHeader(name))
            {
                (headers ??= []).Add((name.ToLowerInvariant(), value));
            }
        }

        headers?.Sort(static (x, y) => x.Name != y.Name ? string.CompareOrdinal(x.Name, y.Name) : string.CompareOrdinal(x.Value, y.Value));
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(position), headers?.Count ?? 0);
        position += 4;
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                WriteString(buffer, ref position, name);
                WriteString(buffer, ref position, value);
            }
        }

        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(position), request.Body.Length);
        position += 4;
        request.Body.Span.CopyTo(buffer.AsSpan(position));
        return position + request.Body.Length;
    }

    private static void WriteString(byte[] buffer, ref int position, string value)
    {
        var written = Encoding.UTF8.GetBytes(value, buffer.AsSpan(position + 4));
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(position), written);
        position += 4 + written;
    }

    /// <summary>Vault's api client re-encodes the query with sorted keys, so order does not change the answer.</summary>
    private static string SortQuery(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return "";
        }

        if (!query.Contains('&', StringComparison.Ordinal))
        {
            return query;
        }

        // Stable by key: values of a repeated key keep their order, as url.Values does.
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .OrderBy(static pair => pair.Split('=', 2)[0], StringComparer.Ordinal);
        return string.Join('&', pairs);
    }
}
