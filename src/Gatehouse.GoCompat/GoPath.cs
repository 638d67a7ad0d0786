using System.Text;

namespace Gatehouse.GoCompat;

/// <summary>
/// How Go's net/http sees a request path, which decides what Vault sees: the request-target is percent-decoded
/// whole (<c>%2F</c> becomes <c>/</c>, <c>url.URL.Path</c>), ServeMux cleans it (<c>cleanPath</c>) and answers 301
/// to the cleaned path when they differ, and the Location is re-escaped (<c>URL.EscapedPath</c>). DevVault answers with
/// these rules, and the daemon decides with them which path Vault will route a proxied request to.
/// </summary>
internal static class GoPath
{
    /// <summary>
    /// Splits a request-target into its raw path and raw query; <paramref name="forceQuery"/> is Go's
    /// <c>URL.ForceQuery</c> (a '?' with nothing after it). An absolute-form target keeps only its path.
    /// </summary>
    public static (string RawPath, string RawQuery, bool ForceQuery) Split(string target)
    {
        if (!target.StartsWith('/') && target.IndexOf("://", StringComparison.Ordinal) is var scheme and > 0)
        {
            var slash = target.IndexOf('/', scheme + 3);
            target = slash < 0 ? "" : target[slash..];
        }
        var q = target.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? (target, "", false) : (target[..q], target[(q + 1)..], q == target.Length - 1);
    }

    /// <summary>Go's <c>unescape(s, encodePath)</c>: every <c>%XX</c> decoded, UTF-8. False on a bad escape.</summary>
    public static bool TryUnescape(string raw, out string path)
    {
        if (!raw.Contains('%', StringComparison.Ordinal))
        {
            path = raw;
            return true;
        }
        var bytes = new List<byte>(raw.Length);
        var run = 0; // start of the current stretch without escapes
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '%')
            {
                continue;
            }
            if (i + 2 >= raw.Length || !Uri.IsHexDigit(raw[i + 1]) || !Uri.IsHexDigit(raw[i + 2]))
            {
                path = "";
                return false;
            }
            bytes.AddRange(Encoding.UTF8.GetBytes(raw[run..i]));
            bytes.Add((byte)((Uri.FromHex(raw[i + 1]) << 4) | Uri.FromHex(raw[i + 2])));
            i += 2;
            run = i + 1;
        }
        bytes.AddRange(Encoding.UTF8.GetBytes(raw[run..]));
        path = Encoding.UTF8.GetString([.. bytes]);
        return true;
    }

    /// <summary>
    /// Go's ServeMux <c>cleanPath</c>: <c>path.Clean</c> (no empty, <c>.</c> or <c>..</c> segments; never above
    /// the root) with a leading slash, keeping a trailing slash.
    /// </summary>
    public static string Clean(string p)
    {
        if (p.Length == 0)
        {
            return "/";
        }
        if (p[0] != '/')
        {
            p = "/" + p;
        }
        var kept = new List<string>();
        foreach (var segment in p.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (kept.Count > 0)
                {
                    kept.RemoveAt(kept.Count - 1);
                }
                continue;
            }
            kept.Add(segment);
        }
        var cleaned = "/" + string.Join('/', kept);
        if (p[^1] == '/' && cleaned != "/")
        {
            cleaned += "/";
        }
        return cleaned;
    }

    /// <summary>
    /// Go's <c>url.ParseQuery(raw).Get(key)</c>: the first value of <paramref name="key"/>, or null when absent. Pairs
    /// are split at <c>&amp;</c>; a pair holding <c>;</c> or a bad escape is skipped, as Go skips it; <c>+</c> is a space.
    /// </summary>
    public static string? QueryGet(string rawQuery, string key)
    {
        foreach (var pair in rawQuery.Split('&'))
        {
            if (pair.Length == 0 || pair.Contains(';', StringComparison.Ordinal))
            {
                continue;
            }

            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var rawKey = eq < 0 ? pair : pair[..eq];
            var rawValue = eq < 0 ? "" : pair[(eq + 1)..];
            if (!TryUnescape(rawKey.Replace('+', ' '), out var name) || !TryUnescape(rawValue.Replace('+', ' '), out var value))
            {
                continue;
            }

            if (name == key)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// Go's <c>escape(s, encodePath)</c>: letters, digits, <c>-_.~</c> and <c>$&amp;+,/:;=@</c> stay; every other
    /// byte of the UTF-8 form becomes <c>%XX</c> (upper case).
    /// </summary>
    public static string Escape(string path)
    {
        var sb = new StringBuilder(path.Length);
        foreach (var b in Encoding.UTF8.GetBytes(path))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '$' or '&' or '+' or ',' or '/' or ':' or ';' or '=' or '@')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(Convert.ToHexString([b]));
            }
        }
        return sb.ToString();
    }

    /// <summary>The Location of ServeMux's redirect: the cleaned path, escaped, with the query as sent.</summary>
    public static string Location(string cleanedPath, string rawQuery, bool forceQuery) =>
        Escape(cleanedPath) + (rawQuery.Length > 0 || forceQuery ? "?" + rawQuery : "");

    /// <summary>The body <c>http.Redirect</c> writes for a GET: a link, a period and two newlines.</summary>
    public static string RedirectBody(string location) =>
        "<a href=\"" + HtmlEscape(location) + "\">Moved Permanently</a>.\n\n";

    /// <summary>Go's <c>html.EscapeString</c> as net/http's <c>htmlEscape</c> does it.</summary>
    private static string HtmlEscape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);
}
