namespace Gatehouse.Configuration;

/// <summary>
/// What an <c>auto_auth_token_allow_paths</c> / <c>auto_auth_token_deny_paths</c> pattern may look like: a Vault policy
/// path, below <c>/v1/</c> (one leading <c>/</c> is dropped, as Vault drops it from a policy path; a <c>v1/</c> or
/// <c>/v1/</c> start is refused, since Vault would read it as a mount named <c>v1</c>), a <c>*</c> only at its end,
/// no <c>+*</c> (Vault refuses it), and no segment a cleaned path can never have. The proxy's matcher
/// (<c>ApiProxy/PathPattern</c>) relies on these rules holding.
/// </summary>
internal static class PathPatternRules
{
    /// <summary>Why <paramref name="pattern"/> is not a usable pattern, with what to write instead; null when it is.</summary>
    public static string? Problem(string pattern)
    {
        if (pattern.Length == 0 || pattern == "/")
        {
            return "a pattern must not be empty; write a Vault path such as \"secret/data/app/*\", or \"*\" for every path";
        }

        var body = pattern.StartsWith('/') ? pattern[1..] : pattern;
        if (body.StartsWith("v1/", StringComparison.Ordinal) || body == "v1")
        {
            return $"pattern \"{pattern}\": write paths as in a Vault policy, without /v1/: \"{body[Math.Min(3, body.Length)..]}\"";
        }

        var star = body.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0 && star != body.Length - 1)
        {
            return $"pattern \"{pattern}\": \"*\" may only end a pattern (it matches any rest of the path); " +
                "use \"+\" for exactly one segment, as in \"secret/+/config\"";
        }

        if (body.Contains("+*", StringComparison.Ordinal))
        {
            return $"pattern \"{pattern}\": invalid use of wildcards ('+*' is forbidden, as in Vault policies); write \"+/*\" or \"*\"";
        }

        var segments = (star >= 0 ? body[..^1] : body).Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            // The segment a trailing slash or star leaves empty is fine; any other empty, . or .. segment is cleaned
            // away before Vault routes a path, so the pattern could never match.
            var segment = segments[i];
            if ((segment.Length == 0 && i != segments.Length - 1) || segment is "." or "..")
            {
                return $"pattern \"{pattern}\": Vault never routes a path with an empty, \".\" or \"..\" segment " +
                    "(Gatehouse matches paths after cleaning them as Vault does), so this pattern would never match; remove the segment";
            }
        }

        return null;
    }
}
