using System.Text;
using System.Text.Json;
using Gatehouse.ApiProxy;

namespace Gatehouse.Tests.ApiProxy;

public sealed class TokenRedactorTests
{
    [Theory]
    [InlineData("/v1/auth/token/lookup-self", "Self")]
    [InlineData("/v1/auth/token/renew-self", "Self")]
    [InlineData("/v1/ns1/ns2/auth/token/lookup-self", "Self")]
    [InlineData("/v1/auth/token/lookup-self/", "Self")]
    [InlineData("/v1/auth/token/lookup", "ByBody")]
    [InlineData("/v1/auth/token/renew", "ByBody")]
    [InlineData("/v1/auth/token/lookup-accessor", "None")]
    [InlineData("/v1/auth/mytoken/lookup-self", "None")]
    [InlineData("/v1/secret/data/auth/token/lookupx", "None")]
    [InlineData("/agent/v1/auth/token/lookup-self", "None")]
    public void Classify_RecognisesTokenLookupAndRenewPaths(string path, string kind) =>
        Assert.Equal(kind, TokenRedactor.Classify(path).ToString());

    [Fact]
    public void Redact_RemovesDataIdAndAccessor_BlanksAuthTokenAndAccessor_KeepsTheRest()
    {
        var body = """{"data":{"id":"t","accessor":"a","meta":{"x":"<&>"}},"auth":{"client_token":"t","accessor":"a","policies":["p"]},"unknown":true}""";

        var redacted = Encoding.UTF8.GetString(TokenRedactor.Redact(Encoding.UTF8.GetBytes(body)));

        Assert.Equal("""{"data":{"meta":{"x":"<&>"}},"auth":{"client_token":"","accessor":"","policies":["p"]},"unknown":true}""", redacted);
    }

    [Fact]
    public void Redact_MalformedBody_Throws() =>
        Assert.ThrowsAny<JsonException>(() => TokenRedactor.Redact("not json"u8));
}
