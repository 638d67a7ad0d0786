using System.Text;
using Gatehouse.Shared;

namespace Gatehouse.Tests.Shared;

public sealed class SealerTests
{
    private static readonly SharedKeys Keys = SharedKeys.FromMaterial(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly SharedKeys OtherKeys = SharedKeys.FromMaterial(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void Sealed_OpensUnderTheSameKeyAndName()
    {
        var sealer = new Sealer(Keys);
        var envelope = sealer.Seal("gatehouse:fleet:token", "s.secret-token"u8);

        var opened = sealer.Open("gatehouse:fleet:token", envelope);

        Assert.Equal(SealStatus.Opened, opened.Status);
        Assert.Equal("s.secret-token", Encoding.UTF8.GetString(opened.Plaintext!));
        Assert.Equal(Sealer.Overhead + "s.secret-token".Length, envelope.Length);
        Assert.Equal(Sealer.Version, envelope[0]);
        Assert.Equal(Keys.KeyId.ToArray(), envelope[1..9]);
        Assert.DoesNotContain("secret", Encoding.Latin1.GetString(envelope), StringComparison.Ordinal);
    }

    [Fact]
    public void SealingTwice_UsesAFreshNonce()
    {
        var sealer = new Sealer(Keys);

        Assert.NotEqual(sealer.Seal("k", "same"u8), sealer.Seal("k", "same"u8));
    }

    [Fact]
    public void CopiedToAnotherRedisKey_DoesNotOpen()
    {
        var sealer = new Sealer(Keys);
        var envelope = sealer.Seal("gatehouse:a", "value"u8);

        var opened = sealer.Open("gatehouse:b", envelope);

        Assert.Equal(SealStatus.Corrupt, opened.Status);
        Assert.Null(opened.Plaintext);
    }

    [Fact]
    public void SealedUnderOtherKeyMaterial_IsToldApart_WithItsKeyId()
    {
        var envelope = new Sealer(OtherKeys).Seal("k", "value"u8);

        var opened = new Sealer(Keys).Open("k", envelope);

        Assert.Equal(SealStatus.OtherKey, opened.Status);
        Assert.Equal(OtherKeys.KeyIdText, opened.OtherKeyId);
        Assert.NotEqual(Keys.KeyIdText, OtherKeys.KeyIdText);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(12)]
    [InlineData(22)]
    [InlineData(-1)]
    public void AnyChangedByte_IsCorrupt_OrAnotherKey(int index)
    {
        var sealer = new Sealer(Keys);
        var envelope = sealer.Seal("k", "a longer value to flip"u8);
        var at = index < 0 ? envelope.Length - 1 : index;
        envelope[at] ^= 0x01;

        var opened = sealer.Open("k", envelope);

        // A changed key id reads as another key's envelope; anything else is damage. Neither opens.
        Assert.Equal(at is >= 1 and <= 8 ? SealStatus.OtherKey : SealStatus.Corrupt, opened.Status);
        Assert.Null(opened.Plaintext);
    }

    [Fact]
    public void TooShortOrNotAnEnvelope_IsCorrupt()
    {
        var sealer = new Sealer(Keys);

        Assert.Equal(SealStatus.Corrupt, sealer.Open("k", []).Status);
        Assert.Equal(SealStatus.Corrupt, sealer.Open("k", new byte[Sealer.Overhead - 1]).Status);
        Assert.Equal(SealStatus.Corrupt, sealer.Open("k", "plain text, not sealed at all"u8).Status);
    }
}
