using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// One HTTP/1.1 exchange over a plain socket, for request shapes HttpClient will not produce (several Host headers,
/// none, CONNECT with a path). Reads the answer by Content-Length, chunked framing, or until the server closes.
/// </summary>
internal static class RawHttp
{
    internal sealed record Response(int Status, List<(string Name, string Value)> Headers, string Body)
    {
        /// <summary>The header's values joined with ","; null when absent.</summary>
        public string? Header(string name)
        {
            var values = Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
            return values.Count == 0 ? null : string.Join(",", values);
        }
    }

    public static async Task<Response> SendAsync(Uri address, string head, byte[]? body, bool headRequest, CancellationToken ct = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        if (body is not null)
        {
            await stream.WriteAsync(body, ct);
        }
        return await ReadAsync(stream, headRequest, ct);
    }

    /// <summary>Reads one response from <paramref name="stream"/>.</summary>
    public static async Task<Response> ReadAsync(Stream stream, bool headRequest, CancellationToken ct = default)
    {
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        int end;
        while ((end = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            var n = await stream.ReadAsync(chunk, ct);
            if (n == 0)
            {
                throw new IOException("the server closed the connection before the end of the response head: " + Encoding.ASCII.GetString([.. buffer]));
            }
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var lines = Encoding.ASCII.GetString([.. buffer.Take(end)]).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .Select(p => (p[0].Trim(), p.Length > 1 ? p[1].Trim() : ""))
            .ToList();
        var response = new Response(status, headers, "");
        var rest = buffer.Skip(end + 4).ToList();

        async Task<bool> FillAsync(int count)
        {
            while (rest.Count < count)
            {
                var n = await stream.ReadAsync(chunk, ct);
                if (n == 0)
                {
                    return false;
                }
                rest.AddRange(chunk.AsSpan(0, n));
            }
            return true;
        }

        if (headRequest || status is 204 or 304 || status < 200)
        {
            return response;
        }
        if (response.Header("Content-Length") is { } length)
        {
            var n = int.Parse(length, CultureInfo.InvariantCulture);
            if (!await FillAsync(n))
            {
                throw new IOException($"the body ended before its Content-Length of {n}");
            }
            return response with { Body = Encoding.UTF8.GetString([.. rest.Take(n)]) };
        }
        if (response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = new List<byte>();
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(rest, "\r\n"u8)) < 0)
                {
                    if (!await FillAsync(rest.Count + 1))
                    {
                        throw new IOException("the chunked body ended early");
                    }
                }
                var size = int.Parse(Encoding.ASCII.GetString([.. rest.Take(lineEnd)]).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                rest.RemoveRange(0, lineEnd + 2);
                if (size == 0)
                {
                    return response with { Body = Encoding.UTF8.GetString([.. body]) };
                }
                if (!await FillAsync(size + 2))
                {
                    throw new IOException("the chunked body ended early");
                }
                body.AddRange(rest.Take(size));
                rest.RemoveRange(0, size + 2);
            }
        }
        // No framing: the body runs until the server closes the connection (Go's error answers do this).
        while (await FillAsync(rest.Count + 1))
        {
        }
        return response with { Body = Encoding.UTF8.GetString([.. rest]) };
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }
}
