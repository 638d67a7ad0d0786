using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.ApiProxy;

/// <summary>
/// <c>auto_auth_token_allow_paths</c> and <c>auto_auth_token_deny_paths</c>, per listener: the Vault paths a request
/// that is given the auto-auth token may reach. A listener that sets either list uses its own two lists; any other
/// uses <c>api_proxy</c>'s. A path is allowed when the allow list is empty or one of its patterns applies, and no deny
/// pattern applies (deny wins; there is no "most specific rule" between the two lists, unlike within a policy).
/// </summary>
internal sealed class AutoAuthPathRules
{
    private readonly RuleSet?[] _byListener;
    private readonly RuleSet? _default;

    public AutoAuthPathRules(GatehouseConfig config)
    {
        var apiProxy = config.ApiProxy ?? new ApiProxyConfig();
        _default = RuleSet.From(apiProxy.AutoAuthTokenAllowPaths, apiProxy.AutoAuthTokenDenyPaths, "api_proxy");
        _byListener = [.. config.Listeners.Select(listener => listener.HasOwnPathRules
            ? RuleSet.From(listener.AutoAuthTokenAllowPaths ?? [], listener.AutoAuthTokenDenyPaths ?? [], $"listener \"{listener.EffectiveAddress}\"")
            : _default is null ? null : _default with { Owner = $"api_proxy (listener \"{listener.EffectiveAddress}\")" })];
    }

    /// <summary>True when some listener has rules; with none, nothing need be checked.</summary>
    public bool Any => _default is not null || Array.Exists(_byListener, rules => rules is not null);

    /// <summary>
    /// Null when a request on listener <paramref name="listener"/> may be given the auto-auth token; otherwise why not,
    /// naming the rule, for the 403 and the log line.
    /// </summary>
    public PathRefusal? Refusal(HttpRequest request, int listener)
    {
        var rules = listener >= 0 && listener < _byListener.Length ? _byListener[listener] : _default;
        return rules?.Refusal(VaultRoute.Of(request));
    }

    private sealed record RuleSet(PathPattern[] Allow, PathPattern[] Deny, string Owner)
    {
        public static RuleSet? From(IReadOnlyList<PathPatternConfig> allow, IReadOnlyList<PathPatternConfig> deny, string owner) =>
            allow.Count == 0 && deny.Count == 0
                ? null
                : new RuleSet([.. allow.Select(p => new PathPattern(p.Pattern))], [.. deny.Select(p => new PathPattern(p.Pattern))], owner);

        public PathRefusal? Refusal(VaultRoute route)
        {
            const string Advice = "; Gatehouse does not send its auto-auth token there: send your own X-Vault-Token";
            if (route.Doubt is { } doubt)
            {
                var rule = $"{Owner}'s auto_auth_token_allow_paths and auto_auth_token_deny_paths cannot be applied";
                return new PathRefusal($"Gatehouse cannot tell which Vault path this request would reach ({doubt}), so {rule}{Advice}", rule, RequestLogPath.Redacted);
            }

            if (route.Path is not { } path)
            {
                return Allow.Length == 0
                    ? null
                    : new PathRefusal($"path \"{route.Shown}\" is outside /v1/ and so not in auto_auth_token_allow_paths of {Owner}{Advice}",
                        $"outside /v1/, not in auto_auth_token_allow_paths of {Owner}", RequestLogPath.Safe(route.Shown));
            }

            foreach (var pattern in Deny)
            {
                if (pattern.AppliesTo(path, route.List))
                {
                    var rule = $"matches \"{pattern.Text}\" in auto_auth_token_deny_paths of {Owner}";
                    return new PathRefusal($"path \"{path}\" {rule}{Advice}", rule, RequestLogPath.Safe(path));
                }
            }

            if (Allow.Length == 0 || Array.Exists(Allow, pattern => pattern.AppliesTo(path, route.List)))
            {
                return null;
            }

            var notAllowed = $"not in auto_auth_token_allow_paths of {Owner}";
            return new PathRefusal($"path \"{path}\" is {notAllowed}{Advice}", notAllowed, RequestLogPath.Safe(path));
        }
    }
}

/// <summary>
/// Why a request may not be given the auto-auth token: <paramref name="Message"/> for the client's 403 (it names the
/// path, which the client sent); <paramref name="Rule"/> and <paramref name="LogPath"/> for the log line, the path as
/// Vault would route it with a token in it cut off (<see cref="RequestLogPath"/>), or nothing when it is undecided.
/// </summary>
internal sealed record PathRefusal(string Message, string Rule, string LogPath);
