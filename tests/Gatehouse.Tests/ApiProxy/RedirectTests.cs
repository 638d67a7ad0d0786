using Gatehouse.ApiProxy;

namespace Gatehouse.Tests.ApiProxy;

public sealed class RedirectTests
{
    private static readonly Uri Https = new("https://standby.example:8200/v1/secret/data/app");

    [Fact]
    public void SameRequestOnAnotherServer_IsFollowed() =>
        Assert.Equal(
            new Uri("https://active.example:8200/v1/secret/data/app"),
            VaultForwarder.RedirectTarget(307, Https, new Uri("https://active.example:8200/v1/secret/data/app")));

    [Theory]
    [InlineData("/v1/secret/data/app")]
    [InlineData("/v1/other?x=1")]
    [InlineData("https://active.example:8200/v1/secret/data/other")]
    [InlineData("https://active.example:8200/v1/secret/data/app?list=true")]
    public void ARedirectThatChangesWhatIsAsked_OrGoesNowhereElse_IsNotFollowed(string location) =>
        Assert.Null(VaultForwarder.RedirectTarget(301, Https, new Uri(location, UriKind.RelativeOrAbsolute)));

    [Fact]
    public void HttpsToHttpDowngrade_IsNotFollowed() =>
        Assert.Null(VaultForwarder.RedirectTarget(307, Https, new Uri("http://active.example:8200/v1/secret/data/app")));

    [Theory]
    [InlineData(200)]
    [InlineData(303)]
    [InlineData(304)]
    public void OtherStatuses_AreNotFollowed(int status) =>
        Assert.Null(VaultForwarder.RedirectTarget(status, Https, new Uri("/v1/x", UriKind.Relative)));

    [Theory]
    [InlineData("GET", true)]
    [InlineData("LIST", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    [InlineData("POST", false)]
    [InlineData("PATCH", false)]
    public void OnlyIdempotentMethods_AreRedirected(string method, bool expected) =>
        Assert.Equal(expected, VaultForwarder.IsRedirectableMethod(method));
}
