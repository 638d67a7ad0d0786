using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class SharedEntriesTests
{
    [Theory]
    [InlineData("PUT", "/v1/auth/approle/login", true)]
    [InlineData("POST", "/v1/auth/userpass/login/alice", true)]
    [InlineData("POST", "/v1/ns1/auth/token/create", true)]
    [InlineData("POST", "/v1/auth/token/create-orphan", true)]
    [InlineData("GET", "/v1/auth/approle/login", false)]
    [InlineData("POST", "/v1/auth/token/revoke", false)]
    [InlineData("GET", "/v1/secret/db", false)]
    [InlineData("POST", "/v1/secret/login", false)]
    public void LoginsAndTokenCreates_AreMergedAcrossTheFleet(string method, string path, bool merged) =>
        Assert.Equal(merged, LeaseCache.IsMergedAcrossFleet(new CacheRequest(method, path, null, null, "t", default)));

    [Fact]
    public void Lifetime_RoundTripsThroughItsRedisText()
    {
        var lifetime = new CacheLifetime(DateTimeOffset.FromUnixTimeMilliseconds(1_735_689_600_123), 1800);
        Assert.Equal("1735689600123:1800", SharedEntries.LifetimeText(lifetime));
        Assert.Equal(lifetime, SharedEntries.ParseLifetime(SharedEntries.LifetimeText(lifetime)));
        Assert.Null(SharedEntries.ParseLifetime("garbage"));
        Assert.Null(SharedEntries.ParseLifetime(StackExchange.Redis.RedisValue.Null));
    }
}
