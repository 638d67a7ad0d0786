using Gatehouse.Cache.Static;

namespace Gatehouse.Tests.Cache.Static;

public sealed class TokenGrantsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
    private static readonly GrantPath Db = new("", "secret/data/app/db");

    [Fact]
    public void Grant_IsPerTokenAndPathAndNamespace()
    {
        var grants = new TokenGrants();
        Assert.True(grants.Grant("t1", Db));
        Assert.False(grants.Grant("t1", Db with { ReadPath = "secret/data/app/other" }));
        Assert.True(grants.CanRead("t1", Db, Now));
        Assert.False(grants.CanRead("t2", Db, Now));
        Assert.False(grants.CanRead("t1", Db with { Namespace = "ns1/" }, Now));
    }

    [Fact]
    public void Revoke_Drop_DropAccessor_TakeGrantsAway()
    {
        var grants = new TokenGrants();
        grants.Grant("t1", Db);
        grants.Grant("t2", Db);
        grants.Grant("t3", Db);
        grants.Describe("t3", "acc-3", null);
        grants.Revoke("t1", Db);
        Assert.False(grants.CanRead("t1", Db, Now));
        Assert.True(grants.Drop("t2"));
        Assert.False(grants.CanRead("t2", Db, Now));
        Assert.Equal(1, grants.DropAccessor("acc-3"));
        Assert.False(grants.CanRead("t3", Db, Now));
    }

    [Fact]
    public void ExpiredToken_LosesItsGrants()
    {
        var grants = new TokenGrants();
        grants.Grant("t1", Db);
        grants.Describe("t1", "acc", Now.AddMinutes(1));
        Assert.True(grants.CanRead("t1", Db, Now));
        Assert.Empty(grants.ReadersOf(Db, Now.AddMinutes(2), null));
        Assert.False(grants.CanRead("t1", Db, Now.AddMinutes(1)));
        Assert.Equal(0, grants.TokenCount);
    }

    [Fact]
    public void ReadersOf_PutsThePreferredTokenFirst_OnlyWhenItHoldsTheGrant()
    {
        var grants = new TokenGrants();
        grants.Grant("client", Db);
        grants.Grant("agent", Db);
        Assert.Equal("agent", grants.ReadersOf(Db, Now, "agent").First());
        Assert.Equal(["client"], grants.ReadersOf(Db, Now, "stranger").Where(t => t == "client"));
        Assert.DoesNotContain("stranger", grants.ReadersOf(Db, Now, "stranger"));
    }

    [Fact]
    public void Describe_NeverPrintsTheToken()
    {
        var grants = new TokenGrants();
        grants.Grant("hvs.secret-token", Db);
        Assert.DoesNotContain("hvs.secret-token", grants.Snapshot().Single().ToString(), StringComparison.Ordinal);
    }
}
