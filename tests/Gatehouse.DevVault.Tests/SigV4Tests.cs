using System.Text;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// DevVault's SigV4 (what its aws backend checks Gatehouse's SDK-signed requests with) against AWS's published
/// Signature Version 4 test suite (aws-sig-v4-test-suite, credentials AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service").
/// </summary>
public sealed class SigV4Tests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    [Theory]
    [InlineData("https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")] // get-vanilla
    [InlineData("https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")] // get-vanilla-query-order-key-case
    public void Sign_MatchesAwsPublishedTestSuite(string url, string expected)
    {
        var headers = new Dictionary<string, string> { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" };

        var signature = SigV4.Sign(Secret, "GET", new Uri(url), headers, ["host", "x-amz-date"], [], "20150830T123600Z", "20150830", "us-east-1", "service");

        Assert.Equal(expected, signature);
    }

    [Fact]
    public void Sign_TakesTheHostFromTheUrl_WhenNoHostHeaderWasSent_AsGoAndTheSdksLeaveItOut()
    {
        var withHeader = SigV4.Sign(Secret, "GET", new Uri("https://example.amazonaws.com/"),
            new Dictionary<string, string> { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" },
            ["host", "x-amz-date"], [], "20150830T123600Z", "20150830", "us-east-1", "service");
        var fromUrl = SigV4.Sign(Secret, "GET", new Uri("https://example.amazonaws.com/"),
            new Dictionary<string, string> { ["x-amz-date"] = "20150830T123600Z" },
            ["host", "x-amz-date"], [], "20150830T123600Z", "20150830", "us-east-1", "service");

        Assert.Equal(withHeader, fromUrl);
        Assert.NotEqual(withHeader, SigV4.Sign(Secret, "POST", new Uri("https://example.amazonaws.com/"),
            new Dictionary<string, string> { ["x-amz-date"] = "20150830T123600Z" }, ["host", "x-amz-date"], Encoding.UTF8.GetBytes("x"),
            "20150830T123600Z", "20150830", "us-east-1", "service"));
    }

    [Fact]
    public void ParseAuthorization_ReadsTheScopeAndSignedHeaders()
    {
        var parsed = SigV4.ParseAuthorization(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc");

        Assert.NotNull(parsed);
        Assert.Equal(("AKIDEXAMPLE", "20150830", "us-east-1", "sts", "abc"), (parsed.AccessKeyId, parsed.Date, parsed.Region, parsed.Service, parsed.Signature));
        Assert.Equal(["content-type", "host", "x-amz-date"], parsed.SignedHeaders);
        Assert.Null(SigV4.ParseAuthorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts, Signature=abc"));
        Assert.Null(SigV4.ParseAuthorization("Bearer abc"));
    }
}
