using System.Text;
using Gatehouse.ApiProxy;

namespace Gatehouse.Tests.ApiProxy;

public sealed class TokenGuardTests
{
    private const string Token = "s.E1nsp35XJ4j0ioIQ2MU5RNfr";
    private const string Accessor = "sTbfMjeKwjLUCi3dWUY1HyUD";

    private static TokenGuard Guard() => TokenGuard.For(Token, Token, Accessor)!;

    private static (GuardVerdict Verdict, string Body, string? WrappingToken) Apply(string body)
    {
        var verdict = Guard().Apply(Encoding.UTF8.GetBytes(body), out var safe, out var wrappingToken);
        return (verdict, Encoding.UTF8.GetString(safe.Span), wrappingToken);
    }

    [Fact]
    public void For_OnlyARequestCarryingTheAutoAuthToken_IsGuarded()
    {
        Assert.NotNull(TokenGuard.For(Token, Token, Accessor));
        Assert.Null(TokenGuard.For("s.other", Token, Accessor));
        Assert.Null(TokenGuard.For(null, Token, Accessor));
        Assert.Null(TokenGuard.For(Token, null, null));
    }

    [Fact]
    public void Apply_ALookupOfTheToken_RemovesIdAndAccessor_KeepsEveryOtherField()
    {
        var (verdict, body, _) = Apply($$$"""{"data":{"id":"{{{Token}}}","accessor":"{{{Accessor}}}","meta":{"x":"<&>"},"ttl":5},"unknown":true}""");

        Assert.Equal(GuardVerdict.Redacted, verdict);
        Assert.Equal("""{"data":{"meta":{"x":"<&>"},"ttl":5},"unknown":true}""", body);
    }

    [Fact]
    public void Apply_ARenewalOfTheToken_BlanksClientTokenAndAccessor()
    {
        var (verdict, body, _) = Apply($$$"""{"auth":{"client_token":"{{{Token}}}","accessor":"{{{Accessor}}}","policies":["p"]}}""");

        Assert.Equal(GuardVerdict.Redacted, verdict);
        Assert.Equal("""{"auth":{"client_token":"","accessor":"","policies":["p"]}}""", body);
    }

    [Theory]
    [InlineData("""{"data":{"keys":["{0}"]}}""")]
    [InlineData("""not json at all, but it says {0} and {1}""")]
    [InlineData("""{"warnings":["token {0} expires"],"data":{"id":"s.someoneelse"}}""")]
    public void Apply_TheTokenAnywhereElse_IsMaskedByteForByte(string template)
    {
        var input = template.Replace("{0}", Token, StringComparison.Ordinal).Replace("{1}", Accessor, StringComparison.Ordinal);

        var (verdict, body, _) = Apply(input);

        Assert.Equal(GuardVerdict.Redacted, verdict);
        Assert.Equal(input.Length, body.Length);
        Assert.DoesNotContain(Token, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Accessor, body, StringComparison.Ordinal);
        Assert.Contains(new string('*', Token.Length), body, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_AnAnswerWithoutTheToken_IsUnchanged()
    {
        var input = """{"data":{"id":"s.someoneelse","accessor":"other"}}""";

        var (verdict, body, _) = Apply(input);

        Assert.Equal(GuardVerdict.Clean, verdict);
        Assert.Equal(input, body);
    }

    [Theory]
    [InlineData("auth/token/lookup-self", null)]
    [InlineData("auth/token/lookup", null)]
    [InlineData("ns1/auth/token/renew-self", null)]
    [InlineData("auth/token/renew", null)]
    [InlineData("auth/token/create", Accessor)]
    public void Apply_AWrappedAnswerThatUnwrapsToTheToken_IsRefused(string creationPath, string? wrappedAccessor)
    {
        var accessorField = wrappedAccessor is null ? "" : $",\"wrapped_accessor\":\"{wrappedAccessor}\"";
        var (verdict, _, wrappingToken) = Apply(
            $$$"""{"request_id":"","data":null,"wrap_info":{"token":"s.wrap","accessor":"wa","ttl":60,"creation_time":"t","creation_path":"{{{creationPath}}}"{{{accessorField}}}}}""");

        Assert.Equal(GuardVerdict.RefuseWrapped, verdict);
        Assert.Equal("s.wrap", wrappingToken);
    }

    [Theory]
    [InlineData("secret/data/app")]
    [InlineData("auth/token/create")]
    [InlineData("auth/token/lookup-accessor")]
    [InlineData("auth/tokens/lookup-self")]
    public void Apply_OtherWrappedAnswers_PassUnchanged(string creationPath)
    {
        var input = $$$"""{"wrap_info":{"token":"s.wrap","creation_path":"{{{creationPath}}}","wrapped_accessor":"someone-else"}}""";

        var (verdict, body, _) = Apply(input);

        Assert.Equal(GuardVerdict.Clean, verdict);
        Assert.Equal(input, body);
    }

    [Fact]
    public async Task MaskingStream_FindsTheTokenSplitAcrossEveryPossibleBoundary()
    {
        var payload = Encoding.UTF8.GetBytes($"line one\n{Token} and {Accessor}\nsss.s.E1 end s");
        for (var split = 0; split <= payload.Length; split++)
        {
            using var sink = new MemoryStream();
            var masking = new TokenMaskingStream(sink, Guard());

            await masking.WriteAsync(payload.AsMemory(0, split));
            await masking.FlushAsync();
            await masking.WriteAsync(payload.AsMemory(split));
            await masking.CompleteAsync(CancellationToken.None);

            var written = Encoding.UTF8.GetString(sink.ToArray());
            Assert.Equal(payload.Length, written.Length);
            Assert.DoesNotContain(Token, written, StringComparison.Ordinal);
            Assert.DoesNotContain(Accessor, written, StringComparison.Ordinal);
            Assert.EndsWith("\nsss.s.E1 end s", written, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MaskingStream_ALineEndingWrite_IsSentWhole()
    {
        using var sink = new MemoryStream();
        var masking = new TokenMaskingStream(sink, Guard());

        await masking.WriteAsync("2026-12-07T04:00:00Z [INFO] core: started\n"u8.ToArray());

        Assert.Equal("2026-12-07T04:00:00Z [INFO] core: started\n", Encoding.UTF8.GetString(sink.ToArray()));
    }

    [Theory]
    [InlineData("auth/token/lookup-self/", true)]
    [InlineData("auth/token/lookup/s.abc", true)]
    [InlineData("auth/token/renew-accessor", false)]
    [InlineData("myauth/token/lookup-self", false)]
    [InlineData("", false)]
    public void IsTokenDescribingPath(string path, bool expected) => Assert.Equal(expected, TokenGuard.IsTokenDescribingPath(path));
}
