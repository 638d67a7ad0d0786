using Gatehouse.GoCompat;

namespace Gatehouse.Tests.GoCompat;

public sealed class GoFlagsTests
{
    private static readonly HashSet<string> Bools = ["verbose"];
    private static readonly HashSet<string> Values = ["config", "address"];

    private static (string? Error, List<string> Seen) Run(params string[] args)
    {
        var seen = new List<string>();
        var error = GoFlags.Parse(
            args, Bools, Values,
            (name, on) =>
            {
                seen.Add($"{name}={on}");
                return null;
            },
            (name, value) =>
            {
                seen.Add($"{name}:{value}");
                return value == "bad" ? $"invalid value \"{value}\" for flag -{name}" : null;
            },
            arg => $"positional {arg}");
        return (error, seen);
    }

    [Fact]
    public void BothSpellings_OneOrTwoDashes_AndBareOrExplicitBooleans()
    {
        var (error, seen) = Run("-config=a.hcl", "--config", "b.hcl", "-verbose", "--verbose=false", "-verbose=T", "-address", "-x");
        Assert.Null(error);
        Assert.Equal(["config:a.hcl", "config:b.hcl", "verbose=True", "verbose=False", "verbose=True", "address:-x"], seen);
    }

    [Theory]
    [InlineData("-nope", "flag provided but not defined: -nope")]
    [InlineData("-verbose=maybe", "invalid boolean value \"maybe\" for -verbose")]
    [InlineData("file.hcl", "positional file.hcl")]
    [InlineData("--", "positional --")]
    [InlineData("-h", GoFlags.HelpRequested)]
    [InlineData("--help", GoFlags.HelpRequested)]
    [InlineData("-config=bad", "invalid value \"bad\" for flag -config")]
    public void UsageErrors_StopAtTheFirst_WithGosMessages(string arg, string expected) =>
        Assert.Equal(expected, Run(arg, "-config=later.hcl").Error);

    [Fact]
    public void AValueFlagLast_LacksItsArgument_ButOneBeforeAnotherFlagTakesIt_AsGoDoes()
    {
        Assert.Equal("flag needs an argument: -config", Run("-verbose", "-config").Error);
        Assert.Equal(["config:-verbose"], Run("-config", "-verbose").Seen);
    }
}
