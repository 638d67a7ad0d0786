namespace Gatehouse.ApiProxy;

/// <summary>
/// The path as the per-request debug line shows it. Vault paths carry no secrets, with one family of exceptions: the
/// token endpoints' URL forms (<c>auth/token/lookup/&lt;token&gt;</c>, <c>revoke</c>, <c>renew</c>, …) accept the token
/// as a path segment. Everything after such an endpoint (after a '/' or an escape that Vault decodes into one) is
/// replaced, so a token never reaches a log line. The query string is never logged.
/// </summary>
internal static class RequestLogPath
{
    public const string Redacted = "<redacted>";

    private const string TokenMount = "auth/token/";

    public static string Safe(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }

        int mount = path.IndexOf(TokenMount, StringComparison.OrdinalIgnoreCase);
        if (mount < 0)
        {
            return path;
        }

        // "…/auth/token/<endpoint>/<anything>": keep the endpoint, drop the rest. An escape (a %2F Kestrel keeps, which
        // Vault decodes into a slash) ends the endpoint too: no endpoint name holds a '%'.
        int endpointStart = mount + TokenMount.Length;
        int end = path.AsSpan(endpointStart).IndexOfAny('/', '%');
        if (end < 0)
        {
            return path;
        }

        end += endpointStart;
        if (path[end] == '%')
        {
            return string.Concat(path.AsSpan(0, end), "/", Redacted);
        }

        return end == path.Length - 1 ? path : string.Concat(path.AsSpan(0, end + 1), Redacted);
    }
}
