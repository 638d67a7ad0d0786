using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class MemoryTrimmerTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(1 * MiB, 100 * MiB, 60 * MiB, true)]     // quiet after a burst: give memory back
    [InlineData(50 * MiB, 100 * MiB, 60 * MiB, false)]   // still busy: never collect under load
    [InlineData(1 * MiB, 60 * MiB + 512 * 1024, 60 * MiB, false)] // quiet, but nothing much to give back
    [InlineData(4 * MiB, 100 * MiB, 60 * MiB, false)]    // exactly the quiet threshold counts as busy
    [InlineData(1 * MiB, 61 * MiB, 60 * MiB, true)]      // exactly the worthwhile amount
    // A Native AOT Gatehouse idles with about 4 MiB committed and a burst adds 2-6 MiB: that must be given back
    // (issue 15: RSS back within 10% of idle a minute after load).
    [InlineData(8 * 1024, 6 * MiB, 4 * MiB, true)]
    [InlineData(8 * 1024, 10 * MiB, 4 * MiB, true)]
    public void ShouldTrim_OnlyWhenQuietAndHoldingMoreThanAfterTheLastTrim(long allocated, long committed, long trimmedAt, bool expected) =>
        Assert.Equal(expected, MemoryTrimmer.ShouldTrim(allocated, committed, trimmedAt));
}
