using System.Text;
using Gatehouse.Cache.Static;

namespace Gatehouse.Tests.Cache.Static;

/// <summary>How the static cache reads Vault's answers: which reads may be stored, metadata, capabilities, lookup-self.</summary>
public sealed class StaticAnswersTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Qualify_KvV2Read_CarriesVersionDeletionAndCustomMetadata()
    {
        var read = StaticSecretCache.Qualify(B("""
            {"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,
             "data":{"data":{"password":"x"},"metadata":{"created_time":"t","custom_metadata":{"owner":"a"},"deletion_time":"","destroyed":false,"version":4}},
             "wrap_info":null,"warnings":null,"auth":null}
            """))!;
        Assert.Equal((true, 4, "", false, "{\"owner\":\"a\"}", 0L), (read.IsV2, read.Version, read.DeletionTime, read.Destroyed, read.CustomMetadata, read.LeaseDuration));
    }

    [Fact]
    public void Qualify_KvV1Read_KeepsItsTtlHint()
    {
        var read = StaticSecretCache.Qualify(B("""{"lease_id":"","lease_duration":2764800,"data":{"password":"x"},"warnings":null}"""))!;
        Assert.Equal((false, 2764800L), (read.IsV2, read.LeaseDuration));
    }

    [Theory]
    [InlineData("""{"data":{"a":1},"wrap_info":{"token":"w"}}""")]
    [InlineData("""{"data":{"a":1},"auth":{"client_token":"t"}}""")]
    [InlineData("""{"data":{"a":1},"lease_id":"database/creds/x/abc"}""")]
    [InlineData("""{"data":{"a":1},"warnings":["Endpoint ignored these unrecognized parameters"]}""")]
    [InlineData("""{"data":null}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"data":{"a":1}""")]
    [InlineData("")]
    public void Qualify_WrappedLeasedWarnedOrMalformed_IsNeverStored(string body) =>
        Assert.Null(StaticSecretCache.Qualify(B(body)));

    private const string Metadata = """
        {"data":{"current_version":3,"custom_metadata":{"owner":"a","team":"b"},"updated_time":"t",
         "versions":{"1":{"deletion_time":"","destroyed":true},"2":{"deletion_time":"2026-01-01T00:00:00Z","destroyed":false},"3":{"deletion_time":"","destroyed":false}}}}
        """;

    [Fact]
    public void Metadata_MatchesWhatWasStored_UntilVersionDeletionOrCustomMetadataChange()
    {
        var meta = StaticSecretCache.ParseMetadata(B(Metadata))!;
        var current = new StaticSecretInfo("", "secret/", 2, "app", null) { Version = 3, CustomMetadata = """{"team":"b", "owner":"a"}""" };
        Assert.True(meta.Matches(current));
        Assert.False(meta.Matches(current with { Version = 2 }));
        Assert.False(meta.Matches(current with { CustomMetadata = """{"owner":"a"}""" }));
        Assert.False(meta.Matches(current with { CustomMetadata = null }));

        var pinned = new StaticSecretInfo("", "secret/", 2, "app", 2) { Version = 2, CustomMetadata = """{"owner":"a","team":"b"}""" };
        Assert.False(meta.Matches(pinned));
        Assert.True(meta.Matches(pinned with { DeletionTime = "2026-01-01T00:00:00Z" }));
        Assert.False(meta.Matches(new StaticSecretInfo("", "secret/", 2, "app", 1) { Version = 1 }));
    }

    [Fact]
    public void Metadata_WithoutCustomMetadata_MatchesAReadWithout()
    {
        var meta = StaticSecretCache.ParseMetadata(B("""{"data":{"current_version":1,"versions":{"1":{"deletion_time":"","destroyed":false}}}}"""))!;
        Assert.True(meta.Matches(new StaticSecretInfo("", "secret/", 2, "app", null) { Version = 1 }));
        Assert.True(meta.Matches(new StaticSecretInfo("", "secret/", 2, "app", null) { Version = 1, CustomMetadata = "{}" }));
    }

    [Fact]
    public void Capabilities_FromDataOrTopLevel()
    {
        var fromData = StaticSecretCache.ParseCapabilities(B("""{"data":{"secret/data/a":["read","update"],"capabilities":["read"]}}"""))!;
        Assert.Equal(["read", "update"], fromData["secret/data/a"]);
        var top = StaticSecretCache.ParseCapabilities(B("""{"secret/data/a":["deny"]}"""))!;
        Assert.Equal(["deny"], top["secret/data/a"]);
        Assert.Null(StaticSecretCache.ParseCapabilities(B("oops")));
    }

    [Fact]
    public void Lookup_ReadsAccessorExpiryAndUseLimit()
    {
        var lookup = StaticSecretCache.ParseLookup(B("""{"data":{"accessor":"acc","expire_time":"2026-12-07T10:00:00.5Z","num_uses":0}}"""))!.Value;
        Assert.Equal(("acc", new DateTimeOffset(2026, 12, 7, 10, 0, 0, 500, TimeSpan.Zero), false), (lookup.Accessor, lookup.ExpiresAt, lookup.LimitedUses));
        Assert.True(StaticSecretCache.ParseLookup(B("""{"data":{"accessor":"acc","expire_time":null,"num_uses":3}}"""))!.Value.LimitedUses);
        Assert.Null(StaticSecretCache.ParseLookup(B("""{"errors":[]}""")));
    }
}
