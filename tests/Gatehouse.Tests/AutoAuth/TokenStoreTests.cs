using Gatehouse.AutoAuth;

namespace Gatehouse.Tests.AutoAuth;

public sealed class TokenStoreTests
{
    private static AutoAuthToken Token(string value) => new(value, "acc-" + value, DateTimeOffset.UnixEpoch, TimeSpan.FromHours(1), Renewable: true);

    [Fact]
    public void TokenStore_RestoredToken_IsNotCurrentAndEndsWithThePublishOfAnyToken()
    {
        var store = new TokenStore();
        var restored = Token("s.restored");
        store.Preload(restored);

        Assert.Same(restored, store.Restored);
        Assert.Null(store.Current);
        Assert.False(store.FirstToken.IsCompleted);

        store.Publish(Token("s.fresh"));
        Assert.Null(store.Restored);
        Assert.Equal("s.fresh", store.Current?.Token);
    }

    [Fact]
    public void TokenStore_RefuseRestored_RaisesOnceAndOnlyForTheRestoredToken()
    {
        var store = new TokenStore();
        var restored = Token("s.restored");
        var refused = new List<AutoAuthToken>();
        store.RestoredRefused += refused.Add;
        store.Preload(restored);

        store.RefuseRestored(Token("s.restored"));
        Assert.Same(restored, store.Restored);
        store.RefuseRestored(restored);
        store.RefuseRestored(restored);
        Assert.Same(restored, Assert.Single(refused));
        Assert.Null(store.Restored);
    }

    [Fact]
    public void TokenStore_DropRestored_EndsLookupsWithoutARefusal()
    {
        var store = new TokenStore();
        var restored = Token("s.restored");
        var refused = 0;
        store.RestoredRefused += _ => refused++;
        store.Preload(restored);

        store.DropRestored(restored);
        Assert.Null(store.Restored);
        Assert.Equal(0, refused);
    }
}
