namespace Gatehouse.ApiProxy;

/// <summary>
/// Reads a body whole only when it ends within a limit: how Gatehouse holds a request or an answer in memory without
/// letting a client or Vault decide how much memory that is.
/// </summary>
internal static class BoundedBody
{
    /// <summary>
    /// Reads <paramref name="body"/> to its end when that comes within <paramref name="limit"/> bytes and returns the
    /// bytes. Otherwise returns null and sets <paramref name="rest"/> to a stream of what was read followed by the rest
    /// of <paramref name="body"/>, which the caller then sends on as a stream.
    /// </summary>
    /// <param name="sizeHint">The declared length, when known: the first buffer is made that size.</param>
    public static async ValueTask<(byte[]? Whole, Stream? Remainder)> ReadAsync(Stream body, long limit, long? sizeHint, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(limit + 1, sizeHint is { } hint ? hint + 1 : 16 * 1024)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    return (null, new PrefixedStream(buffer, body));
                }

                Array.Resize(ref buffer, (int)Math.Min(limit + 1, (long)buffer.Length * 2));
            }

            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (buffer.AsSpan(0, length).ToArray(), null);
            }

            length += read;
        }
    }
}
