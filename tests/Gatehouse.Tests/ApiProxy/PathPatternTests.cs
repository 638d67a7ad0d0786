using Gatehouse.ApiProxy;

namespace Gatehouse.Tests.ApiProxy;

/// <summary>
/// The matcher against Vault's ACL rules (OpenBao vault/policy/acl.go): exact paths, <c>*</c> prefixes, <c>+</c>
/// segments with or without a trailing <c>*</c>, and the list rule (a list path ends with "/", and a rule for the path
/// without it applies too).
/// </summary>
public sealed class PathPatternTests
{
    [Theory]
    // Exact: the whole path, case-sensitive, trailing slash significant.
    [InlineData("auth/token/lookup-self", "auth/token/lookup-self", true)]
    [InlineData("auth/token/lookup-self", "auth/token/lookup-self/", false)]
    [InlineData("auth/token/lookup-self", "auth/token/lookup-selfish", false)]
    [InlineData("auth/token/lookup-self", "Auth/token/lookup-self", false)]
    [InlineData("/auth/token/lookup-self", "auth/token/lookup-self", true)]
    // Prefix: any rest, within a segment too (Vault's "secret/app*" covers "secret/app2").
    [InlineData("secret/data/app1/*", "secret/data/app1/config", true)]
    [InlineData("secret/data/app1/*", "secret/data/app1/", true)]
    [InlineData("secret/data/app1/*", "secret/data/app1", false)]
    [InlineData("secret/data/app1/*", "secret/data/app10/config", false)]
    [InlineData("secret/data/app*", "secret/data/app10/config", true)]
    [InlineData("*", "sys/mounts", true)]
    [InlineData("*", "", true)]
    // + is one whole segment, empty included (Vault splits "secret/" into "secret" and "").
    [InlineData("secret/+/config", "secret/app1/config", true)]
    [InlineData("secret/+/config", "secret/app1/x/config", false)]
    [InlineData("secret/+/config", "secret/app1/config/", false)]
    [InlineData("secret/+", "secret/", true)]
    [InlineData("+/data/app1", "secret/data/app1", true)]
    [InlineData("+", "sys", true)]
    [InlineData("+", "sys/mounts", false)]
    // + with a trailing *: the last segment is a prefix, and any segments may follow.
    [InlineData("secret/+/app*", "secret/data/app1/deep/er", true)]
    [InlineData("secret/+/app*", "secret/data/ap", false)]
    [InlineData("secret/+/*", "secret/data/", true)]
    [InlineData("secret/+/*", "secret/data", false)]
    // A + inside a segment is a literal character, as in Vault.
    [InlineData("secret/a+b", "secret/a+b", true)]
    [InlineData("secret/a+b", "secret/axb", false)]
    [InlineData("secret/+b/c", "secret/xb/c", false)]
    [InlineData("secret/+b/c", "secret/+b/c", true)]
    public void Pattern_MatchesAsVaultsAcl(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new PathPattern(pattern).AppliesTo(path, list: false));

    [Theory]
    // A list path ends with "/": rules for it and for the path without the slash both apply, as in Vault.
    [InlineData("secret/metadata/app1", "secret/metadata/app1/", true)]
    [InlineData("secret/metadata/app1/*", "secret/metadata/app1/", true)]
    [InlineData("secret/metadata/+", "secret/metadata/app1/", true)]
    [InlineData("secret/metadata", "secret/metadata/app1/", false)]
    [InlineData("secret/metadata/app1/x", "secret/metadata/app1/", false)]
    public void ListOperation_AlsoAppliesRulesForThePathWithoutItsSlash(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new PathPattern(pattern).AppliesTo(path, list: true));
        if (pattern is "secret/metadata/app1" or "secret/metadata/+")
        {
            // ... which a read of the same slash-ended path does not get.
            Assert.False(new PathPattern(pattern).AppliesTo(path, list: false));
        }
    }
}
