using System.Text;
using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class CacheIndexTests
{
    private static CacheEntry Token(string token, string? parent = null, int bodyBytes = 10) => new()
    {
        Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = "root/", RequestPath = "/v1/auth/token/create",
        Token = token, TokenAccessor = "acc-" + token, TokenParent = parent,
        Response = new CachedResponse(200, [], new byte[bodyBytes], authTtl: true),
    };

    [Fact]
    public void CacheIndex_BoundOnEntries_RefusesWhenFull()
    {
        var index = new CacheIndex(2, long.MaxValue);
        Assert.Equal(CacheAddResult.Added, index.TryAdd(Token("a")));
        Assert.Equal(CacheAddResult.Added, index.TryAdd(Token("b")));
        Assert.Equal(CacheAddResult.Full, index.TryAdd(Token("c")));
    }

    [Fact]
    public void CacheIndex_BoundOnBytes_RefusesWhenFull()
    {
        var index = new CacheIndex(100, 2000);
        Assert.Equal(CacheAddResult.Added, index.TryAdd(Token("a", bodyBytes: 1000)));
        Assert.Equal(CacheAddResult.Full, index.TryAdd(Token("b", bodyBytes: 1000)));
        Assert.True(index.Bytes <= 2000);
        index.EvictToken("a", EvictionReason.Cleared);
        Assert.Equal(0, index.Bytes);
    }

    [Fact]
    public void CacheIndex_EvictToken_TakesDeepSubtreeButNotSiblings()
    {
        var index = new CacheIndex(100, long.MaxValue);
        index.TryAdd(Token("root"));
        index.TryAdd(Token("child", "root"));
        index.TryAdd(Token("grandchild", "child"));
        index.TryAdd(Token("other"));
        var reasons = new List<EvictionReason>();
        index.Evicted += (_, reason) => reasons.Add(reason);
        Assert.Equal(3, index.EvictToken("root", EvictionReason.Revoked));
        Assert.Equal([EvictionReason.Revoked, EvictionReason.ParentGone, EvictionReason.ParentGone], reasons);
        Assert.NotNull(index.GetByToken("other"));
    }

    [Fact]
    public void CachedResponse_BodyWithTtl_SplicesOnlyTheRelevantLeaseDuration()
    {
        var body = Encoding.UTF8.GetBytes("""{"lease_id":"","lease_duration":0,"auth":{"client_token":"c","lease_duration":3600,"metadata":{"lease_duration":"x"}}}""");
        var response = new CachedResponse(200, [new("Date", ["x"]), new("Content-Type", ["application/json"])], body, authTtl: true);
        Assert.Equal("""{"lease_id":"","lease_duration":0,"auth":{"client_token":"c","lease_duration":42,"metadata":{"lease_duration":"x"}}}""", Encoding.UTF8.GetString(response.BodyWithTtl(42)));
        Assert.Single(response.Headers);
    }
}
