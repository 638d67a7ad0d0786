using Gatehouse.ApiProxy;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.ApiProxy;

/// <summary>
/// Which Vault path a request reaches (<see cref="VaultRoute"/>: decoded, cleaned, namespace first, list slash) and the
/// per-listener rules built on it. The requests are what Kestrel hands the handler: its path is decoded except for
/// <c>%2F</c> and has no dot segments left.
/// </summary>
public sealed class AutoAuthPathRulesTests
{
    [Theory]
    [InlineData("GET", "/v1/secret/data/app", "", "secret/data/app", false)]
    [InlineData("GET", "/v1/secret/data/app/", "", "secret/data/app/", false)]
    [InlineData("GET", "/v1//secret//data/app", "", "secret/data/app", false)]
    // An escaped path goes to Vault as the client wrote it (ForwardedTarget) and Go decodes %2F to a slash, so the
    // rules decide on the path after decoding and cleaning: an escaped climb out of secret/ lands on sys/mounts.
    [InlineData("GET", "/v1/secret%2Fdata%2Fapp", "", "secret/data/app", false)]
    [InlineData("GET", "/v1/secret/data/x%2F..%2F..%2F..%2Fsys/mounts", "", "sys/mounts", false)]
    [InlineData("GET", "/v1/secret/data/a b", "", "secret/data/a b", false)]
    [InlineData("GET", "/v1/secret/metadata/app", "?list=true", "secret/metadata/app/", true)]
    [InlineData("GET", "/v1/secret/metadata/app", "?list=1", "secret/metadata/app/", true)]
    [InlineData("GET", "/v1/secret/metadata/app", "?list=false", "secret/metadata/app", false)]
    [InlineData("GET", "/v1/secret/metadata/app", "?list=true;x=1", "secret/metadata/app", false)]
    [InlineData("GET", "/v1/secret/metadata/app", "?x=1&list=true", "secret/metadata/app/", true)]
    [InlineData("GET", "/v1/secret/metadata/app", "?scan=true", "secret/metadata/app/", true)]
    [InlineData("PUT", "/v1/secret/metadata/app", "?list=true", "secret/metadata/app", false)]
    [InlineData("LIST", "/v1/secret/metadata/app", "", "secret/metadata/app/", true)]
    [InlineData("LIST", "/v1/secret/metadata/app/", "", "secret/metadata/app/", true)]
    public void Route_IsThePathVaultRoutes(string method, string path, string query, string expected, bool list)
    {
        var route = VaultRoute.Of(Request(method, path, query));
        Assert.Null(route.Doubt);
        Assert.Equal(expected, route.Path);
        Assert.Equal(list, route.List);
    }

    [Theory]
    [InlineData("team-a", "team-a/secret/data/app")]
    [InlineData("/team-a/", "team-a/secret/data/app")]
    [InlineData("team-a/child", "team-a/child/secret/data/app")]
    public void Route_PutsTheNamespaceHeaderFirst(string header, string expected)
    {
        var request = Request("GET", "/v1/secret/data/app");
        request.Headers[VaultHeaders.Namespace] = header;
        Assert.Equal(expected, VaultRoute.Of(request).Path);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("team-a/../root")]
    [InlineData("team-a//child")]
    [InlineData("/")]
    public void Route_WithANamespaceHeaderThatIsNoPlainPath_IsInDoubt(string header)
    {
        var request = Request("GET", "/v1/secret/data/app");
        request.Headers[VaultHeaders.Namespace] = header;
        Assert.NotNull(VaultRoute.Of(request).Doubt);
    }

    [Fact]
    public void Route_WithTwoNamespaceHeaders_IsInDoubt()
    {
        var request = Request("GET", "/v1/secret/data/app");
        request.Headers[VaultHeaders.Namespace] = new Microsoft.Extensions.Primitives.StringValues(["a", "b"]);
        Assert.NotNull(VaultRoute.Of(request).Doubt);
    }

    [Fact]
    public void Route_WithAListValueVaultRefuses_IsInDoubt() =>
        Assert.NotNull(VaultRoute.Of(Request("GET", "/v1/secret/metadata/app", "?list=yes")).Doubt);

    [Fact]
    public void Route_OutsideV1_HasNoVaultPath()
    {
        var route = VaultRoute.Of(Request("GET", "/v1x/../ui/"));
        Assert.Null(route.Doubt);
        Assert.Null(route.Path);
        Assert.Equal("/ui/", route.Shown);
    }

    [Theory]
    [InlineData("secret/data/app1/config", null)]
    [InlineData("secret/data/app1/admin/keys", "path \"secret/data/app1/admin/keys\" matches \"secret/data/app1/admin*\" in auto_auth_token_deny_paths of api_proxy (listener \"127.0.0.1:8100\")")]
    [InlineData("sys/mounts", "path \"sys/mounts\" is not in auto_auth_token_allow_paths of api_proxy (listener \"127.0.0.1:8100\")")]
    public void ApiProxyRules_ApplyOnEveryListenerWithoutItsOwn_DenyWinning(string path, string? expected)
    {
        var rules = new AutoAuthPathRules(Config(
            new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns("secret/data/app1/*"), AutoAuthTokenDenyPaths = Patterns("secret/data/app1/admin*") },
            new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:8100" }));
        var refusal = rules.Refusal(Request("GET", "/v1/" + path), 0);
        if (expected is null)
        {
            Assert.Null(refusal);
        }
        else
        {
            Assert.StartsWith(expected + "; ", refusal!.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(path, refusal.Rule, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ListenerRules_ReplaceApiProxysBoth_AndAnEmptyPairAllowsEverything()
    {
        var rules = new AutoAuthPathRules(Config(
            new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns("secret/data/app1/*"), AutoAuthTokenDenyPaths = Patterns("sys/*") },
            new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:8100" },
            new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:8101", AutoAuthTokenAllowPaths = Patterns("secret/data/app2/*") },
            new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:8102", AutoAuthTokenDenyPaths = [] }));
        Assert.NotNull(rules.Refusal(Request("GET", "/v1/secret/data/app2/x"), 0));
        Assert.Null(rules.Refusal(Request("GET", "/v1/secret/data/app2/x"), 1));
        Assert.Contains("of listener \"127.0.0.1:8101\"", rules.Refusal(Request("GET", "/v1/secret/data/app1/x"), 1)!.Message, StringComparison.Ordinal);
        Assert.Null(rules.Refusal(Request("GET", "/v1/sys/mounts"), 2));
    }

    [Fact]
    public void NoRulesAnywhere_ChecksNothing() =>
        Assert.False(new AutoAuthPathRules(Config(new ApiProxyConfig(), new ListenerConfig { Type = ListenerType.Tcp })).Any);

    [Fact]
    public void DenyOnly_AllowsWhatItDoesNotName_EvenOutsideV1()
    {
        var rules = new AutoAuthPathRules(Config(new ApiProxyConfig { AutoAuthTokenDenyPaths = Patterns("sys/*") }, new ListenerConfig { Type = ListenerType.Tcp }));
        Assert.Null(rules.Refusal(Request("GET", "/v1/secret/data/x"), 0));
        Assert.Null(rules.Refusal(Request("GET", "/ui/"), 0));
        Assert.NotNull(rules.Refusal(Request("PUT", "/v1/sys/policies/acl/x"), 0));
    }

    [Fact]
    public void AnAllowList_RefusesPathsOutsideV1_AndDoubtfulRequests()
    {
        var rules = new AutoAuthPathRules(Config(new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns("*") }, new ListenerConfig { Type = ListenerType.Tcp }));
        Assert.Null(rules.Refusal(Request("GET", "/v1/anything"), 0));
        Assert.Contains("outside /v1/", rules.Refusal(Request("GET", "/ui/"), 0)!.Message, StringComparison.Ordinal);
        var doubt = rules.Refusal(Request("GET", "/v1/secret/x", "?list=maybe"), 0)!;
        Assert.StartsWith("Gatehouse cannot tell which Vault path", doubt.Message, StringComparison.Ordinal);
        Assert.Equal(RequestLogPath.Redacted, doubt.LogPath);
    }

    [Fact]
    public void ARefusalsLogPath_CutsOffATokenInThePath()
    {
        var rules = new AutoAuthPathRules(Config(new ApiProxyConfig { AutoAuthTokenAllowPaths = Patterns("secret/*") }, new ListenerConfig { Type = ListenerType.Tcp }));
        var escaped = rules.Refusal(Request("GET", "/v1/auth/token/lookup%2Fhvs.secret"), 0)!;
        Assert.Equal("auth/token/lookup/" + RequestLogPath.Redacted, escaped.LogPath);
        Assert.DoesNotContain("hvs.secret", escaped.Rule, StringComparison.Ordinal);
        var refusal = rules.Refusal(Request("GET", "/v1/auth/token/lookup/hvs.secret"), 0)!;
        Assert.Equal("auth/token/lookup/" + RequestLogPath.Redacted, refusal.LogPath);
        Assert.DoesNotContain("hvs.secret", refusal.Rule, StringComparison.Ordinal);
    }

    private static GatehouseConfig Config(ApiProxyConfig apiProxy, params ListenerConfig[] listeners) =>
        new() { ApiProxy = apiProxy, Listeners = listeners };

    private static PathPatternConfig[] Patterns(params string[] patterns) => [.. patterns.Select(p => new PathPatternConfig(p, default))];

    private static HttpRequest Request(string method, string path, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);

        // As Kestrel: the request-target as sent (these paths hold no escapes Kestrel would have decoded).
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = path + query;
        return context.Request;
    }
}
