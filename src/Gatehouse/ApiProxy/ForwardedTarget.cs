using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The request URI the forwarder sends for a client request, written once so that what is checked (the auto-auth path
/// rules' <see cref="VaultRoute"/>) is what is sent. A path without percent-escapes goes as Kestrel reads it (YARP's
/// <see cref="RequestUtilities.MakeDestinationAddress"/>: dot segments resolved, <c>//</c> kept). A path with escapes
/// goes as the client wrote it: Kestrel leaves an escaped slash in <c>Request.Path</c> as the three characters
/// <c>%2F</c>, which YARP would escape again (<c>%252F</c>), so Vault would read a literal <c>%2F</c> inside one segment
/// instead of the slash the client meant (and that Vault Agent sends).
/// </summary>
internal static class ForwardedTarget
{
    public static Uri For(HttpContext context, string destinationPrefix) =>
        EscapedRawPath(context) is { } raw
            ? new Uri(destinationPrefix.TrimEnd('/') + raw + context.Request.QueryString.Value)
            : RequestUtilities.MakeDestinationAddress(destinationPrefix, context.Request.Path, context.Request.QueryString);

    /// <summary>
    /// The request-target's path exactly as the client sent it (escapes, dot segments and <c>//</c> untouched); the
    /// path Kestrel decoded when the target is not in origin form.
    /// </summary>
    public static string RawPath(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target[0] != '/')
        {
            return context.Request.PathBase.Add(context.Request.Path).Value ?? "/";
        }

        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? target : target[..query];
    }

    /// <summary>The client's request-target path when it holds percent-escapes (else null: Request.Path is exact).</summary>
    private static string? EscapedRawPath(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target[0] != '/' || context.Request.PathBase.HasValue)
        {
            // Not in origin form: Kestrel's decoded Request.Path is all there is.
            return null;
        }

        var path = RawPath(context);
        return path.Contains('%', StringComparison.Ordinal) ? path : null;
    }
}
