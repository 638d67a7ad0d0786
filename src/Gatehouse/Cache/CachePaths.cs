namespace Gatehouse.Cache;

/// <summary>Path helpers shared by the key, the cacheability rules and revocation matching.</summary>
internal static class CachePaths
{
    /// <summary>Go's <c>path.Clean</c>: collapses <c>//</c>, resolves <c>.</c> and <c>..</c>, drops a trailing slash.</summary>
    public static string Normalize(string path)
    {
        if (path.Length > 1 && !path.Contains("//", StringComparison.Ordinal) && !path.Contains("/.", StringComparison.Ordinal) && path[^1] != '/')
        {
            return path;
        }

        var parts = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(segment);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>
    /// The API path below <c>/v1/</c> with any namespace prefix removed, e.g. <c>/v1/ns1/auth/token/revoke</c> →
    /// <c>auth/token/revoke</c>, when the path (after the namespace) starts with one of <paramref name="roots"/>.
    /// </summary>
    public static string? ApiPath(string normalizedPath, params ReadOnlySpan<string> roots)
    {
        if (!normalizedPath.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = normalizedPath[4..];
        // Try each segment boundary: the namespace prefix is zero or more leading segments.
        var start = 0;
        while (true)
        {
            var candidate = rest.AsSpan(start);
            foreach (var root in roots)
            {
                if (candidate.StartsWith(root, StringComparison.Ordinal))
                {
                    return candidate.ToString();
                }
            }

            var slash = rest.IndexOf('/', start);
            if (slash < 0)
            {
                return null;
            }

            start = slash + 1;
        }
    }
}
