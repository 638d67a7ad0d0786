using System.Globalization;
using System.Net;

namespace Gatehouse.Configuration;

/// <summary>
/// <c>cache.shared.address</c>: <c>host:port</c> (a DNS name, an IPv4 address, or <c>[IPv6]</c>; port 1-65535) or
/// <c>unix:///absolute/path</c>. The validator and the connection parse it here, once.
/// </summary>
internal readonly record struct SharedAddress(string? Host, int Port, string? UnixPath)
{
    public bool IsUnix => UnixPath is not null;

    /// <summary>How logs and health name it (no credentials are ever part of an address).</summary>
    public override string ToString() => IsUnix ? $"unix://{UnixPath}" : Host!.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public static bool TryParse(string? text, out SharedAddress address, out string error)
    {
        address = default;
        const string Example = "use host:port (such as 127.0.0.1:6379) or unix:///path/to/redis.sock";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"address is required; {Example}";
            return false;
        }

        if (text.StartsWith("unix://", StringComparison.Ordinal))
        {
            var path = text["unix://".Length..];
            if (!path.StartsWith('/'))
            {
                error = $"invalid address \"{text}\": a unix socket path must be absolute (unix:///path); {Example}";
                return false;
            }

            address = new SharedAddress(null, 0, path);
            error = "";
            return true;
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            error = $"invalid address \"{text}\": no scheme is read except unix://; {Example}";
            return false;
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':' || !IPAddress.TryParse(text[1..close], out _))
            {
                error = $"invalid address \"{text}\": write an IPv6 address as [addr]:port; {Example}";
                return false;
            }

            host = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"invalid address \"{text}\": missing port; {Example}";
                return false;
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
            if (Uri.CheckHostName(host) is UriHostNameType.Unknown)
            {
                error = $"invalid address \"{text}\": \"{host}\" is not a host name or IP address; {Example}";
                return false;
            }
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"invalid address \"{text}\": the port must be a number from 1 to 65535; {Example}";
            return false;
        }

        address = new SharedAddress(host, port, null);
        error = "";
        return true;
    }
}
