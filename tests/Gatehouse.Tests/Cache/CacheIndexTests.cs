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
    public void CacheIndex_Children_HoldTheParentsTokenInstance_NotCopies()
    {
        // Each request carries its own copy of the parent token (a header value); 10,000 children must not keep
        // 10,000 copies of it.
        var index = new CacheIndex(100, long.MaxValue);
        var parent = Token("hvs.parent-token");
        index.TryAdd(parent);
        var child = new CacheEntry
        {
            Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = new string("root/"), RequestPath = new string("/v1/auth/token/create"),
            RequestMethod = new string("POST"), Token = "hvs.child", TokenParent = new string("hvs.parent-token"), RequestToken = new string("hvs.parent-token"),
        };
        var lease = new CacheEntry
        {
            Id = CacheKey.Random(), Kind = CacheEntryKind.Lease, Namespace = new string("root/"), RequestPath = new string("/v1/database/creds/ro"),
            Lease = "database/creds/ro/1", LeaseToken = new string("hvs.parent-token"), RequestToken = new string("hvs.parent-token"),
        };

        Assert.Equal(CacheAddResult.Added, index.TryAdd(child));
        Assert.Equal(CacheAddResult.Added, index.TryAdd(lease));

        Assert.Same(parent.Token, child.TokenParent);
        Assert.Same(parent.Token, child.RequestToken);
        Assert.Same(parent.Token, lease.LeaseToken);
        Assert.Same(parent.Token, lease.RequestToken);
    }

    [Fact]
    public void CacheIndex_Entries_ShareNamespacePathAndMethodStrings()
    {
        var index = new CacheIndex(100, long.MaxValue);
        CacheEntry Create(string token) => new()
        {
            Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = new string("ns1/"), RequestPath = new string("/v1/auth/approle/login"),
            RequestMethod = new string("PUT"), Token = token,
        };

        var a = Create("a");
        var b = Create("b");
        index.TryAdd(a);
        index.TryAdd(b);

        Assert.Same(a.Namespace, b.Namespace);
        Assert.Same(a.RequestPath, b.RequestPath);
        Assert.Same(a.RequestMethod, b.RequestMethod);
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
