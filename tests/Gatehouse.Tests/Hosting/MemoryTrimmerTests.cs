using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class MemoryTrimmerTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(1 * MiB, 100 * MiB, 60 * MiB, true)]     // quiet after a burst: give memory back
    [InlineData(50 * MiB, 100 * MiB, 60 * MiB, false)]   // still busy: never collect under load
    [InlineData(1 * MiB, 70 * MiB, 60 * MiB, false)]     // quiet, but nothing much to give back
    [InlineData(4 * MiB, 100 * MiB, 60 * MiB, false)]    // exactly the quiet threshold counts as busy
    [InlineData(1 * MiB, 76 * MiB, 60 * MiB, true)]      // exactly the worthwhile amount
    public void ShouldTrim_OnlyWhenQuietAndHoldingMoreThanAfterTheLastTrim(long allocated, long committed, long trimmedAt, bool expected) =>
        Assert.Equal(expected, MemoryTrimmer.ShouldTrim(allocated, committed, trimmedAt));
}
