using Gatehouse.Cache.Static;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Cache.Static;

public sealed class KvRequestsTests
{
    private static readonly KnownMount V2 = new("secret/", MountKind.KvV2, DateTimeOffset.UnixEpoch);
    private static readonly KnownMount V1 = new("team/kv/", MountKind.KvV1, DateTimeOffset.UnixEpoch);
    private static readonly KnownMount Pki = new("pki/", MountKind.Other, DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData("secret/data/app/db", null, "app/db", null)]
    [InlineData("secret/data/app/db", "version=3", "app/db", 3)]
    [InlineData("secret/data/app/db", "version=0", "app/db", null)]
    public void Read_KvV2DataPath_NamesTheSecretAndVersion(string apiPath, string? query, string secretPath, int? pinned)
    {
        var info = KvRequests.Read("ns1/", V2, apiPath, query)!;
        Assert.Equal((2, secretPath, pinned, "secret/data/" + secretPath), (info.KvVersion, info.SecretPath, info.PinnedVersion, info.ReadPath));
        Assert.Equal("ns1/", info.Namespace);
    }

    [Theory]
    [InlineData("secret/metadata/app/db", null)]
    [InlineData("secret/subkeys/app/db", null)]
    [InlineData("secret/data/", null)]
    [InlineData("secret/config", null)]
    [InlineData("secret/data/app/db", "version=x")]
    [InlineData("secret/data/app/db", "version=1&extra=2")]
    [InlineData("secret/data/app/db", "list=true")]
    public void Read_AnythingButAKvV2DataRead_IsNotCacheable(string apiPath, string? query) =>
        Assert.Null(KvRequests.Read("", V2, apiPath, query));

    [Fact]
    public void Read_KvV1_TakesNoQuery_AndOtherEnginesNothing()
    {
        Assert.Equal("team/kv/app", KvRequests.Read("", V1, "team/kv/app", null)!.ReadPath);
        Assert.Null(KvRequests.Read("", V1, "team/kv/app", "version=1"));
        Assert.Null(KvRequests.Read("", V1, "team/kv/", null));
        Assert.Null(KvRequests.Read("", Pki, "pki/cert/ca", null));
    }

    [Theory]
    [InlineData("secret/data/app/db")]
    [InlineData("secret/delete/app/db")]
    [InlineData("secret/undelete/app/db")]
    [InlineData("secret/destroy/app/db")]
    [InlineData("secret/metadata/app/db")]
    public void WriteTarget_EveryKvV2Form_NamesTheSameSecret(string apiPath) =>
        Assert.Equal(StaticSecretInfo.SecretIdOf("", "secret/", "app/db"), KvRequests.WriteTarget("", V2, apiPath));

    [Fact]
    public void WriteTarget_ConfigIsTheWholeMount_V1IsThePath_OtherIsNothing()
    {
        Assert.Equal(StaticSecretInfo.MountPrefix("", "secret/"), KvRequests.WriteTarget("", V2, "secret/config"));
        Assert.Equal(StaticSecretInfo.SecretIdOf("", "team/kv/", "app"), KvRequests.WriteTarget("", V1, "team/kv/app"));
        Assert.Null(KvRequests.WriteTarget("", Pki, "pki/roles/x"));
        Assert.StartsWith(StaticSecretInfo.MountPrefix("", "secret/"), StaticSecretInfo.SecretIdOf("", "secret/", "app/db"), StringComparison.Ordinal);
        Assert.DoesNotMatch("^" + System.Text.RegularExpressions.Regex.Escape(StaticSecretInfo.MountPrefix("", "secret/")), StaticSecretInfo.SecretIdOf("", "secret2/", "app"));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("root", "")]
    [InlineData("/root/", "")]
    [InlineData("ns1", "ns1/")]
    [InlineData("/ns1/team/", "ns1/team/")]
    public void NormalizeNamespace_RootIsEmpty_OthersEndInOneSlash(string? header, string expected) =>
        Assert.Equal(expected, KvRequests.NormalizeNamespace(header));

    [Theory]
    [InlineData("""{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}""", "secret/", "KvV2")]
    [InlineData("""{"data":{"path":"kv1","type":"kv","options":null}}""", "kv1/", "KvV1")]
    [InlineData("""{"data":{"path":"old/","type":"generic"}}""", "old/", "KvV1")]
    [InlineData("""{"data":{"path":"pki/","type":"pki"}}""", "pki/", "Other")]
    public void ParseUiMount_ReadsPathAndKind(string body, string path, string kind) =>
        Assert.Equal((path, Enum.Parse<MountKind>(kind)), KvMounts.ParseUiMount(System.Text.Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("""{"errors":["preflight capability check returned 403"]}""")]
    [InlineData("""{"data":{"type":"kv"}}""")]
    [InlineData("not json")]
    public void ParseUiMount_AnythingElse_IsNull(string body) =>
        Assert.Null(KvMounts.ParseUiMount(System.Text.Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Mounts_LongestPrefixWins_ExpiryOnlyWithoutIncludeExpired_ForgetNamespace()
    {
        var time = new FakeTimeProvider();
        var mounts = new KvMounts(time, TimeSpan.FromMinutes(5));
        mounts.Learn("", "team/", MountKind.Other);
        mounts.Learn("", "team/kv/", MountKind.KvV1);
        Assert.Equal("team/kv/", mounts.Find("", "team/kv/app")!.Path);
        Assert.Equal("team/", mounts.Find("", "team/other")!.Path);
        Assert.Null(mounts.Find("ns1/", "team/kv/app"));
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Null(mounts.Find("", "team/kv/app"));
        Assert.NotNull(mounts.Find("", "team/kv/app", includeExpired: true));
        Assert.Single(mounts.KvMountsOf(""));
        mounts.ForgetNamespace("");
        Assert.Null(mounts.Find("", "team/kv/app", includeExpired: true));
    }
}
