using System.Text;
using Gatehouse.Cache;
using Gatehouse.Cache.Static;
using Gatehouse.Configuration;
using Gatehouse.Shared;
using Microsoft.Extensions.Logging.Testing;

namespace Gatehouse.Tests.Cache.Static;

/// <summary>The names and sealed records of the fleet's static secrets (<see cref="SharedStaticRecords"/>); no Redis is contacted.</summary>
public sealed class SharedStaticRecordsTests
{
    private const string Token = "hvs.CAESIAbcdefTokenValue";

    private static readonly StaticSecretInfo Info = new("ns1/", "secret/", 2, "app/db", null) { Version = 3, CustomMetadata = """{"team":"a"}""" };

    private static SharedStaticRecords Records(byte seed = 0, string prefix = "gatehouse:")
    {
        var keys = SharedKeys.FromMaterial(Enumerable.Range(seed, 32).Select(i => (byte)i).ToArray());
        var config = new SharedConfig { Type = "redis", Address = "127.0.0.1:1", KeyEnvVar = "unused", KeyPrefix = prefix };
        return new SharedStaticRecords(new SharedStore(config, keys, TimeProvider.System, new FakeLogger<SharedStore>()));
    }

    private static FleetSecret Secret(StaticSecretInfo info) => new(
        info,
        new CachedResponse(200, [KeyValuePair.Create("Content-Type", new[] { "application/json" })], """{"data":{"data":{"password":"pw-1"}}}"""u8.ToArray(), authTtl: false),
        0,
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
        4,
        "00ff00ff00ff00ff");

    [Fact]
    public void Names_HoldNeitherTheTokenNorThePath_AndDifferPerPurpose()
    {
        var records = Records();
        var key = StaticSecretCache.KeyOf(Info);
        var names = new[]
        {
            records.SecretKey(Info.SecretId), records.WritesKey(Info.SecretId), records.GrantsKey(Token), records.AccessorKey("accessor-1"),
            records.ReadField(key), records.GrantField(StaticSecretCache.GrantOf(Info)),
        };
        foreach (var name in names)
        {
            Assert.DoesNotContain(Token, name, StringComparison.Ordinal);
            Assert.DoesNotContain("app", name, StringComparison.Ordinal);
            Assert.DoesNotContain("secret/", name, StringComparison.Ordinal);
            Assert.DoesNotContain("accessor-1", name, StringComparison.Ordinal);
        }

        Assert.StartsWith("gatehouse:ss:", records.SecretKey(Info.SecretId), StringComparison.Ordinal);
        Assert.StartsWith("gatehouse:sg:", records.GrantsKey(Token), StringComparison.Ordinal);
        // The same secret's counter and hash are named alike but apart; a token's grants do not share the secret's name.
        Assert.Equal(records.SecretKey(Info.SecretId)[13..], records.WritesKey(Info.SecretId)[13..]);
        Assert.NotEqual(records.GrantsKey(Info.SecretId)[13..], records.SecretKey(Info.SecretId)[13..]);
        // Stable for one key material, different under another.
        Assert.Equal(records.GrantsKey(Token), Records().GrantsKey(Token));
        Assert.NotEqual(records.GrantsKey(Token), Records(seed: 1).GrantsKey(Token));
        // Each read of a secret has its own field; each path its own grant.
        Assert.NotEqual(records.ReadField(key), records.ReadField(StaticSecretCache.KeyOf(Info with { PinnedVersion = 2 })));
        Assert.NotEqual(records.GrantField(new GrantPath("ns1/", "secret/data/app/db")), records.GrantField(new GrantPath("", "secret/data/app/db")));
    }

    [Fact]
    public void SecretRecord_RoundTrips_AndItsSealedBytesHoldNoPlaintext()
    {
        var records = Records();
        var key = StaticSecretCache.KeyOf(Info);
        var secretKey = records.SecretKey(Info.SecretId);
        var field = records.ReadField(key);
        var sealedBytes = records.SealSecret(secretKey, field, Secret(Info));
        Assert.DoesNotContain("pw-1", Encoding.UTF8.GetString(sealedBytes), StringComparison.Ordinal);

        var (opened, problem) = records.OpenSecret(secretKey, field, sealedBytes, key);
        Assert.Null(problem);
        Assert.NotNull(opened);
        Assert.Equal(Info, opened.Info);
        Assert.Equal(Info.Version, opened.Info.Version);
        Assert.Equal(Info.CustomMetadata, opened.Info.CustomMetadata);
        Assert.Equal(Secret(Info).Response.Body, opened.Response.Body);
        Assert.Equal("application/json", Assert.Single(opened.Response.Headers).Value.Single());
        Assert.Equal((4L, "00ff00ff00ff00ff"), (opened.Epoch, opened.Stamp));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), opened.FetchedAt);
    }

    [Fact]
    public void SecretRecord_MovedDamagedOrForeign_NeverOpens()
    {
        var records = Records();
        var key = StaticSecretCache.KeyOf(Info);
        var secretKey = records.SecretKey(Info.SecretId);
        var field = records.ReadField(key);
        var sealedBytes = records.SealSecret(secretKey, field, Secret(Info));

        // Moved to another read's field (a pinned version) or another secret's hash.
        var pinned = StaticSecretCache.KeyOf(Info with { PinnedVersion = 1 });
        Assert.NotNull(records.OpenSecret(secretKey, records.ReadField(pinned), sealedBytes, pinned).Problem);
        Assert.Null(records.OpenSecret(records.SecretKey("other"), field, sealedBytes, key).Secret);

        // Sealed for its place but holding another read (written by a buggy or hostile replica with the key).
        var other = Info with { SecretPath = "app/other" };
        var (wrong, why) = records.OpenSecret(secretKey, field, records.SealSecret(secretKey, field, Secret(other)), key);
        Assert.Null(wrong);
        Assert.Contains("another read", why, StringComparison.Ordinal);

        var damaged = (byte[])sealedBytes.Clone();
        damaged[^1] ^= 0x01;
        Assert.NotNull(records.OpenSecret(secretKey, field, damaged, key).Problem);
        Assert.NotNull(records.OpenSecret(secretKey, field, "not an envelope"u8.ToArray(), key).Problem);

        // Another key material: never opened (the store logs it once, with both key ids).
        var foreign = Records(seed: 9);
        Assert.Null(foreign.OpenSecret(secretKey, field, sealedBytes, key).Secret);
    }

    [Fact]
    public void GrantRecord_RoundTrips_AndOpensOnlyForItsTokenAndPath()
    {
        var records = Records();
        var grantsKey = records.GrantsKey(Token);
        var field = records.GrantField(StaticSecretCache.GrantOf(Info));
        var grant = new FleetGrant(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), "accessor-1", DateTimeOffset.FromUnixTimeMilliseconds(1_700_003_600_000));
        var sealedBytes = records.SealGrant(grantsKey, field, grant);
        Assert.DoesNotContain("accessor-1", Encoding.UTF8.GetString(sealedBytes), StringComparison.Ordinal);

        Assert.Equal(grant, records.OpenGrant(grantsKey, field, sealedBytes).Grant);
        Assert.Null(records.OpenGrant(records.GrantsKey("another token"), field, sealedBytes).Grant);
        Assert.Null(records.OpenGrant(grantsKey, records.GrantField(new GrantPath("", "secret/data/x")), sealedBytes).Grant);

        var noAccessor = grant with { Accessor = null, ExpiresAt = null };
        Assert.Equal(noAccessor, records.OpenGrant(grantsKey, field, records.SealGrant(grantsKey, field, noAccessor)).Grant);
    }

    [Fact]
    public void Version_RoundTrips_AndRejectsWhatIsNotOne()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        Assert.Equal((at, "abc"), SharedStaticRecords.ParseVersion(SharedStaticRecords.VersionText(at, "abc")));
        Assert.Null(SharedStaticRecords.ParseVersion(null));
        Assert.Null(SharedStaticRecords.ParseVersion("abc"));
        Assert.Null(SharedStaticRecords.ParseVersion("-5:abc"));
    }

    [Theory]
    [InlineData(0, null, true)]
    [InlineData(299, null, true)]
    [InlineData(300, null, false)] // confirmed a whole capability refresh interval ago: not taken
    [InlineData(10, 5, false)] // the token expired
    [InlineData(10, 20, true)]
    [InlineData(-600, null, false)] // confirmed "in the future" by a replica with a wrong clock
    public void FleetGrant_IsTakenOnlyWhileFresh(int ageSeconds, int? expiresAfterConfirmSeconds, bool fresh)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var confirmed = now.AddSeconds(-ageSeconds);
        var grant = new FleetGrant(confirmed, null, expiresAfterConfirmSeconds is { } e ? confirmed.AddSeconds(e) : null);
        Assert.Equal(fresh, SharedStaticSecrets.IsFresh(grant, TimeSpan.FromMinutes(5), now));
    }
}
