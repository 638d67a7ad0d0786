using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Gatehouse.IntegrationTests.RealClients;

/// <summary>An HTTP/1.1 answer read off the wire, headers as sent.</summary>
internal sealed record RawResponse(string StatusLine, int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public override string ToString() =>
        $"{StatusLine}\n{string.Join("\n", Headers.Select(h => $"{h.Key}: {h.Value}"))}\n\n{(Body.Length > 600 ? Body[..600] + "…" : Body)}";
}

/// <summary>
/// Sends exactly the bytes given and reads one HTTP/1.1 response (Content-Length, chunked, or until close; gzip
/// undone), so a test can speak like a client .NET's HttpClient would never imitate (an empty Host header).
/// </summary>
internal static class RawHttp
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    public static async Task<RawResponse> ExchangeAsync(Stream stream, string request)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        await stream.FlushAsync(timeout.Token);
        var reader = new Reader(stream, timeout.Token);

        var statusLine = await reader.LineAsync() ?? throw new IOException("the connection was closed before a response (no status line)");
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new IOException($"not an HTTP/1.x status line: {statusLine}");
        }

        var headers = new List<KeyValuePair<string, string>>();
        while (await reader.LineAsync() is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        string? Get(string name) => headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

        byte[] body;
        if (status is 204 or 304 || (status >= 100 && status < 200))
        {
            body = [];
        }
        else if (string.Equals(Get("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            using var collected = new MemoryStream();
            while (true)
            {
                var sizeLine = await reader.LineAsync() ?? throw new IOException("the connection was closed inside a chunked body");
                var size = int.Parse(sizeLine.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while (await reader.LineAsync() is { Length: > 0 })
                    {
                        // trailers
                    }

                    break;
                }

                collected.Write(await reader.BytesAsync(size));
                await reader.LineAsync();
            }

            body = collected.ToArray();
        }
        else if (Get("Content-Length") is { } length)
        {
            body = await reader.BytesAsync(int.Parse(length, CultureInfo.InvariantCulture));
        }
        else
        {
            body = await reader.RestAsync();
        }

        if (string.Equals(Get("Content-Encoding"), "gzip", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            await gzip.CopyToAsync(plain, timeout.Token);
            body = plain.ToArray();
        }

        return new RawResponse(statusLine, status, headers, Encoding.UTF8.GetString(body));
    }

    /// <summary>Byte-exact reads of lines and counted bodies from the stream, never past the current response.</summary>
    private sealed class Reader(Stream stream, CancellationToken cancellationToken)
    {
        public async Task<string?> LineAsync()
        {
            var line = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                if (await stream.ReadAsync(one, cancellationToken) == 0)
                {
                    return line.Count == 0 ? null : Encoding.ASCII.GetString([.. line]);
                }

                if (one[0] == '\n')
                {
                    if (line.Count > 0 && line[^1] == '\r')
                    {
                        line.RemoveAt(line.Count - 1);
                    }

                    return Encoding.ASCII.GetString([.. line]);
                }

                line.Add(one[0]);
            }
        }

        public async Task<byte[]> BytesAsync(int count)
        {
            var buffer = new byte[count];
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            return buffer;
        }

        public async Task<byte[]> RestAsync()
        {
            using var rest = new MemoryStream();
            await stream.CopyToAsync(rest, cancellationToken);
            return rest.ToArray();
        }
    }
}
