using Gatehouse.AutoAuth.Methods;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>
/// Alibaba's RPC signature v1, held to Alibaba's published example (the ECS DescribeRegions request of its
/// "Request signatures" page, signed with testsecret) and to alibaba-cloud-sdk-go's own test vectors
/// (rpc_signature_composer_test.go).
/// </summary>
public sealed class AlicloudRpcSignerTests
{
    [Fact]
    public void HmacSha1_AlibabasPublishedExample_GivesItsStringToSignAndSignature()
    {
        var parameters = new Dictionary<string, string>
        {
            ["Timestamp"] = "2016-02-23T12:46:24Z", ["Format"] = "XML", ["AccessKeyId"] = "testid", ["Action"] = "DescribeRegions",
            ["SignatureMethod"] = "HMAC-SHA1", ["SignatureNonce"] = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", ["Version"] = "2014-05-26",
            ["SignatureVersion"] = "1.0",
        };

        Assert.Equal(
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
            "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z" +
            "%26Version%3D2014-05-26",
            AlicloudRpcSigner.StringToSign("GET", parameters));
        Assert.Equal("OLeaidS1JvxuMvnyHOwuJ+uX5qY=", AlicloudRpcSigner.HmacSha1("GET", parameters, "testsecret"));
    }

    [Fact]
    public void HmacSha1_GoSdkVectors_WithAndWithoutSecurityToken()
    {
        // signRpcRequest on an empty CommonRequest with the SDK's mocked date and nonce.
        var parameters = new Dictionary<string, string>
        {
            ["Version"] = "", ["Action"] = "", ["Format"] = "JSON", ["Timestamp"] = "mock date", ["SignatureMethod"] = "HMAC-SHA1",
            ["SignatureVersion"] = "1.0", ["SignatureType"] = "", ["SignatureNonce"] = "MOCK_UUID", ["AccessKeyId"] = "accessKeyId",
            ["RegionId"] = "regionId",
        };
        Assert.Equal("7loPmFjvDnzOVnQeQNj85S6nFGY=", AlicloudRpcSigner.HmacSha1("GET", parameters, "accessKeySecret"));

        parameters["SecurityToken"] = "accessKeyStsToken";
        Assert.Equal("5Nxdcler+ihqWqv0Hr2On4PsBf4=", AlicloudRpcSigner.HmacSha1("GET", parameters, "accessKeySecret"));
    }

    [Fact]
    public void StringToSign_GoSdkVectors_EncodeValuesTwice()
    {
        var parameters = new Dictionary<string, string> { ["key"] = "value" };
        Assert.Equal("GET&%2F&key%3Dvalue", AlicloudRpcSigner.StringToSign("GET", parameters));

        parameters["q"] = "value";
        Assert.Equal("GET&%2F&key%3Dvalue%26q%3Dvalue", AlicloudRpcSigner.StringToSign("GET", parameters));

        parameters["q"] = "http://domain/?q=value&q2=value2";
        Assert.Equal("GET&%2F&key%3Dvalue%26q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2",
            AlicloudRpcSigner.StringToSign("GET", parameters));
    }

    [Theory]
    [InlineData("a b", "a%20b", "a+b")]
    [InlineData("*", "%2A", "%2A")]
    [InlineData("~-_.", "~-_.", "~-_.")]
    [InlineData("ä/", "%C3%A4%2F", "%C3%A4%2F")]
    [InlineData("x+y=", "x%2By%3D", "x%2By%3D")]
    public void Encoding_IsPopsForSigning_AndGosQueryEscapeForTheUrl(string value, string pop, string go)
    {
        Assert.Equal(pop, AlicloudRpcSigner.PercentEncode(value));
        Assert.Equal(go, AlicloudRpcSigner.QueryEscape(value));
    }

    [Fact]
    public void CanonicalQuery_SortsByOrdinalName_UpperCaseBeforeLowerCase()
    {
        var query = AlicloudRpcSigner.CanonicalQuery(new Dictionary<string, string> { ["b"] = "1", ["B"] = "2", ["a"] = "3" });

        Assert.Equal("B=2&a=3&b=1", query);
    }
}
