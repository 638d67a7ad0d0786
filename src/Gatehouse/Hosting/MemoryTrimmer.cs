using System.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// Gives memory back after a burst. The server GC keeps what a burst made it commit until the next collection, and an
/// idle proxy allocates too little to cause one, so RSS would stay at the burst's peak. Every
/// <see cref="Interval"/> this checks whether the process has gone quiet (it allocated less than
/// <see cref="QuietAllocation"/> since the last check) while the GC holds noticeably more than it did when last trimmed;
/// if so it runs one aggressive, compacting collection, which returns the free memory to the OS. Under load it does
/// nothing: it never collects while requests are still allocating.
/// </summary>
internal sealed partial class MemoryTrimmer(TimeProvider time, ILogger<MemoryTrimmer> logger) : HostedLoop
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    /// <summary>Less than this allocated in an interval counts as quiet (an idle Gatehouse allocates a few KiB a second).</summary>
    public const long QuietAllocation = 4 * 1024 * 1024;

    /// <summary>
    /// Committed memory this far above the last trimmed figure is worth giving back. Small on purpose: a Native AOT
    /// Gatehouse idles with about 4 MiB committed and a burst leaves 2-6 MiB more, which at 16 MiB was never given back
    /// (RSS stayed 12-19% above idle; with 1 MiB it is back within 3% half a minute after the load, docs/packaging.md).
    /// A trim is one full collection of a heap of a few MiB, a few milliseconds, and only when the process is quiet.
    /// </summary>
    public const long WorthTrimming = 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var trimmedAt = GC.GetGCMemoryInfo().TotalCommittedBytes;
        using var timer = new PeriodicTimer(Interval, time);
        while (await NextTickAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            var nowAllocated = GC.GetTotalAllocatedBytes();
            var allocatedSince = nowAllocated - allocated;
            allocated = nowAllocated;
            var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
            if (!ShouldTrim(allocatedSince, committed, trimmedAt))
            {
                trimmedAt = Math.Min(trimmedAt, committed);
                continue;
            }

            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            trimmedAt = GC.GetGCMemoryInfo().TotalCommittedBytes;
            allocated = GC.GetTotalAllocatedBytes();
            Log.Trimmed(logger, committed / (1024 * 1024), trimmedAt / (1024 * 1024));
        }
    }

    /// <summary>False once the host stops (a stop is not a failure of this service).</summary>
    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Quiet for one interval, and holding at least <see cref="WorthTrimming"/> more than after the last trim.</summary>
    internal static bool ShouldTrim(long allocatedSinceLastCheck, long committed, long committedAfterLastTrim) =>
        allocatedSinceLastCheck < QuietAllocation && committed - committedAfterLastTrim >= WorthTrimming;

    private static partial class Log
    {
        [LoggerMessage(LogEvents.MemoryTrimmerTrimmed, LogLevel.Debug, "Quiet after a burst: gave memory back to the OS (GC committed {BeforeMiB} MiB → {AfterMiB} MiB)")]
        public static partial void Trimmed(ILogger logger, long beforeMiB, long afterMiB);
    }
}
