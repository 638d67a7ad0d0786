using Gatehouse.GoCompat;

namespace Gatehouse.Tests.GoCompat;

/// <summary>The one home of Go's and Vault's spellings, shared by the daemon and DevVault: one test per rule and variant.</summary>
public sealed class GoFormatTests
{
    [Theory]
    [InlineData("1", true)]
    [InlineData("t", true)]
    [InlineData("T", true)]
    [InlineData("TRUE", true)]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("0", false)]
    [InlineData("f", false)]
    [InlineData("F", false)]
    [InlineData("FALSE", false)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    public void ParseBool_AcceptsExactlyGosSpellings(string text, bool expected)
    {
        Assert.True(GoFormat.TryParseBool(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("tRUE")]
    [InlineData(" true")]
    [InlineData("")]
    [InlineData("2")]
    public void ParseBool_RefusesWhatGoRefuses(string text) => Assert.False(GoFormat.TryParseBool(text, out _));

    [Theory]
    [InlineData("42", 42L)]
    [InlineData("-42", -42L)]
    [InlineData("+7", 7L)]
    [InlineData("0", 0L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0X1f", 31L)]
    [InlineData("0o17", 15L)]
    [InlineData("0640", 416L)]
    [InlineData("0b101", 5L)]
    [InlineData("-0x10", -16L)]
    public void ParseInt_ReadsBaseZeroLikeStrconv(string text, long expected)
    {
        Assert.True(GoFormat.TryParseInt(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12a")]
    [InlineData("089")]
    [InlineData("0xZ")]
    [InlineData("1.5")]
    [InlineData(" 1")]
    public void ParseInt_RefusesWhatStrconvRefuses(string text) => Assert.False(GoFormat.TryParseInt(text, out _));

    [Theory]
    [InlineData("640", 416L)]
    [InlineData("0640", 416L)]
    [InlineData("7777", 4095L)]
    public void ParseOctal_ReadsDigitsOnly(string text, long expected)
    {
        Assert.True(GoFormat.TryParseOctal(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0o640")]
    [InlineData("8")]
    [InlineData("-640")]
    public void ParseOctal_RefusesPrefixesSignsAndNonOctalDigits(string text) => Assert.False(GoFormat.TryParseOctal(text, out _));

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("30s", 30 * TimeSpan.TicksPerSecond)]
    [InlineData("1h30m", 90 * TimeSpan.TicksPerMinute)]
    [InlineData("1.5s", 15 * TimeSpan.TicksPerSecond / 10)]
    [InlineData("300ms", 300 * TimeSpan.TicksPerMillisecond)]
    [InlineData("2us", 20L)]
    [InlineData("2µs", 20L)]
    [InlineData("2μs", 20L)]
    [InlineData("100ns", 1L)]
    [InlineData("-5m", -5 * TimeSpan.TicksPerMinute)]
    [InlineData("+5m", 5 * TimeSpan.TicksPerMinute)]
    public void ParseDuration_ReadsGosTimeParseDuration(string text, long ticks)
    {
        Assert.True(GoFormat.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromTicks(ticks), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("7d")]
    [InlineData("5x")]
    [InlineData(" 5s")]
    [InlineData("-")]
    [InlineData("99999999999999h")]
    public void ParseDuration_RefusesBareNumbersDaysUnknownUnitsAndOverflow(string text) =>
        Assert.False(GoFormat.TryParseDuration(text, out _));

    [Theory]
    [InlineData("30", 30L)]
    [InlineData("-30", -30L)]
    [InlineData(" 45 ", 45L)]
    [InlineData("", 0L)]
    [InlineData("   ", 0L)]
    [InlineData(null, 0L)]
    [InlineData("1h30m", 5400L)]
    public void ParseDurationSecond_AddsVaultsBareSecondsAndEmptyAsZero(string? text, long seconds)
    {
        Assert.True(GoFormat.TryParseDurationSecond(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Fact]
    public void ParseDurationSecond_ReadsDaysOnlyWhenAsked()
    {
        Assert.False(GoFormat.TryParseDurationSecond("7d", out _));
        Assert.True(GoFormat.TryParseDurationSecond("7d", out var value, days: true));
        Assert.Equal(TimeSpan.FromDays(7), value);
        Assert.False(GoFormat.TryParseDurationSecond("-7d", out _, days: true));
        Assert.False(GoFormat.TryParseDurationSecond("1.5d", out _, days: true));
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(45 * TimeSpan.TicksPerSecond, "45s")]
    [InlineData(15 * TimeSpan.TicksPerSecond / 10, "1.5s")]
    [InlineData(300 * TimeSpan.TicksPerMillisecond, "300ms")]
    [InlineData(5 * TimeSpan.TicksPerMinute, "5m0s")]
    [InlineData(90 * TimeSpan.TicksPerMinute, "1h30m0s")]
    [InlineData(2 * TimeSpan.TicksPerHour, "2h0m0s")]
    [InlineData(50 * TimeSpan.TicksPerHour, "50h0m0s")]
    [InlineData(-5 * TimeSpan.TicksPerMinute, "-5m0s")]
    public void FormatDuration_WritesGosDurationString(long ticks, string expected) =>
        Assert.Equal(expected, GoFormat.FormatDuration(TimeSpan.FromTicks(ticks)));

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(45L, "45s")]
    [InlineData(7200L, "2h")]
    [InlineData(5400L, "1h30m")]
    [InlineData(3605L, "1h0m5s")]
    [InlineData(2764799L, "767h59m59s")]
    [InlineData(-90L, "-1m30s")]
    public void FormatSecondsShort_WritesVaultsWarningForm(long seconds, string expected) =>
        Assert.Equal(expected, GoFormat.FormatSecondsShort(seconds));

    [Theory]
    [InlineData(0.0, "0s")]
    [InlineData(-3.0, "0s")]
    [InlineData(0.2, "1s")]
    [InlineData(300.0, "5m0s")]
    [InlineData(3599.5, "1h0m0s")]
    public void VaultClientWrapTtl_IsGosStringOfWholeSecondsRoundedUp(double seconds, string expected) =>
        Assert.Equal(expected, Gatehouse.Vault.VaultClient.FormatGoDuration(TimeSpan.FromSeconds(seconds)));
}
