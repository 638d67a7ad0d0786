using System.Collections.Concurrent;

namespace Gatehouse.Cache;

/// <summary>
/// One array per distinct set of stored answer headers, shared by every entry that has it. Vault answers carry the
/// same few headers (<c>Cache-Control: no-store</c>, <c>Content-Type: application/json</c>), so 10,000 cached tokens
/// hold one header array, not 10,000 arrays of arrays. Header arrays are never written after they are shared.
/// Bounded: past <see cref="Capacity"/> distinct sets an answer keeps its own array (nothing is ever removed, so the
/// pool cannot grow with traffic).
/// </summary>
internal static class SharedHeaders
{
    public const int Capacity = 256;

    /// <summary>Sets with more headers or longer values than this are not pooled: they are not Vault's usual few.</summary>
    private const int MaxPooledChars = 1024;

    private static readonly ConcurrentDictionary<HeaderSet, KeyValuePair<string, string[]>[]> Pool = new();
    private static int _count;

    /// <summary>The shared array equal to <paramref name="headers"/> (same names, values and order), or <paramref name="headers"/> itself.</summary>
    public static KeyValuePair<string, string[]>[] Share(KeyValuePair<string, string[]>[] headers)
    {
        if (headers.Length == 0)
        {
            return [];
        }

        var set = new HeaderSet(headers);
        if (Pool.TryGetValue(set, out var shared))
        {
            return shared;
        }

        if (set.Chars > MaxPooledChars || Volatile.Read(ref _count) >= Capacity)
        {
            return headers;
        }

        shared = Pool.GetOrAdd(set, headers);
        if (ReferenceEquals(shared, headers))
        {
            Interlocked.Increment(ref _count);
        }

        return shared;
    }

    /// <summary>Structural equality over a header array: ordinal names and values, in order.</summary>
    private readonly struct HeaderSet : IEquatable<HeaderSet>
    {
        private readonly KeyValuePair<string, string[]>[] _headers;
        private readonly int _hash;

        public HeaderSet(KeyValuePair<string, string[]>[] headers)
        {
            _headers = headers;
            var hash = new HashCode();
            var chars = 0;
            foreach (var (name, values) in headers)
            {
                hash.Add(name, StringComparer.Ordinal);
                chars += name.Length;
                hash.Add(values.Length);
                foreach (var value in values)
                {
                    hash.Add(value, StringComparer.Ordinal);
                    chars += value.Length;
                }
            }

            _hash = hash.ToHashCode();
            Chars = chars;
        }

        public int Chars { get; }

        public bool Equals(HeaderSet other)
        {
            if (_hash != other._hash || _headers.Length != other._headers.Length)
            {
                return false;
            }

            for (var i = 0; i < _headers.Length; i++)
            {
                var (name, values) = _headers[i];
                var (otherName, otherValues) = other._headers[i];
                if (!string.Equals(name, otherName, StringComparison.Ordinal) || !values.AsSpan().SequenceEqual(otherValues))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is HeaderSet other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
