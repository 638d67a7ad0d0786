using Gatehouse.GoCompat;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The Vault path a proxied request will reach, worked out from what Gatehouse sends, not from what the client wrote:
/// the request-target the forwarder sends (<see cref="ForwardedTarget"/>, as <see cref="Uri.PathAndQuery"/> puts it on
/// the wire), then what Vault does with it: Go decodes it whole (<c>%2F</c> is a <c>/</c>), ServeMux cleans it
/// (<c>//</c>, <c>.</c>, <c>..</c>), Vault routes what follows <c>/v1/</c>, below the namespace of the
/// <c>X-Vault-Namespace</c> header, and adds a trailing <c>/</c> to a list or scan. Anything Gatehouse cannot be sure
/// of is a <see cref="Doubt"/>, and the caller refuses it.
/// </summary>
/// <param name="Path">Below <c>/v1/</c>, the namespace header's path first, cleaned; null when the path is not under <c>/v1/</c>.</param>
/// <param name="List">A list or scan operation: <paramref name="Path"/> ends with the <c>/</c> Vault adds.</param>
/// <param name="Shown">The path for messages: <paramref name="Path"/>, or the cleaned path when it is not under <c>/v1/</c>.</param>
/// <param name="Doubt">Why the route cannot be told; null when it can.</param>
internal sealed record VaultRoute(string? Path, bool List, string Shown, string? Doubt)
{
    private const string ApiPrefix = "/v1/";

    public static VaultRoute Of(HttpRequest request)
    {
        var sent = ForwardedTarget.For(request.HttpContext, "http://vault").PathAndQuery;
        var (rawPath, rawQuery, _) = GoPath.Split(sent);
        if (!GoPath.TryUnescape(rawPath, out var decoded))
        {
            return Doubtful("its path has a percent sign that is not an escape, which Vault refuses");
        }

        var cleaned = GoPath.Clean(decoded);
        if (!cleaned.StartsWith(ApiPrefix, StringComparison.Ordinal))
        {
            return new VaultRoute(null, false, cleaned, null);
        }

        var path = cleaned[ApiPrefix.Length..];
        var namespaces = request.Headers[VaultHeaders.Namespace];
        if (namespaces.Count > 1)
        {
            return Doubtful($"it has {namespaces.Count} {VaultHeaders.Namespace} headers");
        }

        if (namespaces.Count == 1 && namespaces[0] is { Length: > 0 } header)
        {
            // Vault canonicalizes the header (no leading, one trailing slash) and puts it before the path: a policy
            // path in the root namespace for team-a/secret/x is "team-a/secret/x" whichever way the client named it.
            var ns = header.Trim('/');
            if (ns.Length == 0 || ns.Split('/').Any(segment => segment is "" or "." or ".."))
            {
                return Doubtful($"its {VaultHeaders.Namespace} header is not a plain namespace path");
            }

            path = ns + "/" + path;
        }

        var method = request.Method;
        var list = method is "LIST" or "SCAN";
        if (HttpMethods.IsGet(method))
        {
            foreach (var key in ListKeys)
            {
                if (GoPath.QueryGet(rawQuery, key) is { Length: > 0 } value)
                {
                    if (!GoFormat.TryParseBool(value, out var on))
                    {
                        return Doubtful($"its \"{key}\" query parameter is not a boolean, which Vault refuses");
                    }

                    list |= on;
                }
            }
        }

        if (list && !path.EndsWith('/'))
        {
            path += "/";
        }

        return new VaultRoute(path, list, path, null);
    }

    private static readonly string[] ListKeys = ["list", "scan"];

    private static VaultRoute Doubtful(string why) => new(null, false, "", why);
}
