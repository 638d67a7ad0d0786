using System.Text;
using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class CacheKeyTests
{
    private static CacheKey Key(string method = "PUT", string path = "/v1/auth/approle/login", string? query = null, string? ns = null,
        string? token = "t", string body = "{}", params (string, string)[] headers) =>
        CacheKey.Compute(new CacheRequest(method, path, query, ns, token, Encoding.UTF8.GetBytes(body), [.. headers.Select(h => new KeyValuePair<string, string>(h.Item1, h.Item2))]));

    [Fact]
    public void CacheKey_SameRequest_SameKey() => Assert.Equal(Key(), Key());

    [Theory]
    [InlineData("method")]
    [InlineData("path")]
    [InlineData("query")]
    [InlineData("namespace")]
    [InlineData("token")]
    [InlineData("body")]
    [InlineData("wrap-ttl")]
    public void CacheKey_AnswerChangingPart_SplitsTheCache(string part)
    {
        var other = part switch
        {
            "method" => Key(method: "POST"),
            "path" => Key(path: "/v1/auth/approle2/login"),
            "query" => Key(query: "a=1"),
            "namespace" => Key(ns: "ns1"),
            "token" => Key(token: "u"),
            "body" => Key(body: "{\"a\":1}"),
            _ => Key(headers: ("X-Vault-Wrap-TTL", "60s")),
        };
        Assert.NotEqual(Key(), other);
    }

    [Fact]
    public void CacheKey_IgnoresUnrelatedAndConsistencyHeaders() =>
        Assert.Equal(Key(), Key(headers: [("User-Agent", "x"), ("X-Vault-Index", "abc"), ("X-Vault-Request", "true"), ("X-Vault-Forward", "1"), ("X-Vault-Inconsistent", "forward-active-node")]));

    [Fact]
    public void CacheKey_NormalisesPathAndQueryOrder()
    {
        Assert.Equal(Key(path: "/v1/auth/approle/login"), Key(path: "/v1//auth/./approle/login/"));
        Assert.Equal(Key(query: "a=1&b=2"), Key(query: "b=2&a=1"));
        Assert.NotEqual(Key(query: "a=1&a=2"), Key(query: "a=2&a=1"));
    }

    [Fact]
    public void CacheKey_LengthPrefixes_PreventFieldRunTogether() =>
        Assert.NotEqual(Key(path: "/v1/a", token: "bc"), Key(path: "/v1/ab", token: "c"));

    [Fact]
    public void CacheKey_HeaderCaseAndOrder_DoNotMatter() =>
        Assert.Equal(Key(headers: [("X-Vault-Wrap-TTL", "1m"), ("X-Vault-Policy-Override", "true")]), Key(headers: [("x-vault-policy-override", "true"), ("x-vault-wrap-ttl", "1m")]));

    [Fact]
    public void CacheKey_RoundTripsThroughHex()
    {
        var key = Key();
        Assert.Equal(key, CacheKey.Parse(key.ToString()));
    }
}
