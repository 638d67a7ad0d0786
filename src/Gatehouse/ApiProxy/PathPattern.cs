namespace Gatehouse.ApiProxy;

/// <summary>
/// One <c>auto_auth_token_allow_paths</c> / <c>auto_auth_token_deny_paths</c> pattern, matched as Vault's ACL matches a
/// policy path (OpenBao <c>vault/policy/policy.go</c> parsePaths, <c>acl.go</c> AllowOperation and
/// CheckAllowedFromNonExactPaths): one leading <c>/</c> is dropped; a pattern with a <c>+</c> segment (<c>"+"</c>,
/// <c>"+/…"</c> or <c>"…/+…"</c>) is split at <c>/</c> and compared segment by segment, <c>+</c> matching any one
/// segment and a trailing <c>*</c> any rest of its last segment and beyond; otherwise a trailing <c>*</c> makes a
/// prefix and no <c>*</c> an exact path. A <c>+</c> inside a segment is a literal character, as in Vault. The
/// validator (<c>Configuration/PathPatternRules</c>) has already refused what Vault refuses or what could never match.
/// </summary>
internal sealed class PathPattern
{
    private readonly string _path;
    private readonly bool _prefix;
    private readonly string[]? _segments;

    public PathPattern(string text)
    {
        Text = text;
        var path = text.StartsWith('/') ? text[1..] : text;
        var hasSegmentWildcards = path == "+" || path.Contains("/+", StringComparison.Ordinal) || path.StartsWith("+/", StringComparison.Ordinal);
        _prefix = path.EndsWith('*');
        if (_prefix)
        {
            path = path[..^1];
        }

        _path = path;
        _segments = hasSegmentWildcards ? path.Split('/') : null;
    }

    /// <summary>The pattern as written in the configuration, for messages.</summary>
    public string Text { get; }

    /// <summary>
    /// True when Vault would apply a policy rule on this pattern to a request for <paramref name="path"/> (below
    /// <c>/v1/</c>, namespace included, cleaned). For a list (or scan) operation <paramref name="path"/> ends with the
    /// <c>/</c> Vault adds, and a rule for the path without it applies too, as in Vault.
    /// </summary>
    public bool AppliesTo(string path, bool list) =>
        Matches(path) || (list && path.EndsWith('/') && Matches(path[..^1]));

    private bool Matches(string path)
    {
        if (_segments is null)
        {
            return _prefix ? path.StartsWith(_path, StringComparison.Ordinal) : path == _path;
        }

        var parts = path.Split('/');
        if (parts.Length < _segments.Length || (!_prefix && parts.Length != _segments.Length))
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            var segment = _segments[i];
            var matches = segment == "+"
                || segment == parts[i]
                || (_prefix && i == _segments.Length - 1 && parts[i].StartsWith(segment, StringComparison.Ordinal));
            if (!matches)
            {
                return false;
            }
        }

        return true;
    }
}
