using Gatehouse.Cache;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Cache;

public sealed class RenewerTests
{
    private sealed class FakeSender(Func<CacheEntry, RenewalResult> answer) : IRenewalSender
    {
        public int Calls;

        public ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return ValueTask.FromResult(answer(entry));
        }
    }

    private static CacheEntry Lease(FakeTimeProvider time, int i, long ttl, string? owner = null) => new()
    {
        Id = CacheKey.Random(), Kind = CacheEntryKind.Lease, Namespace = "root/", RequestPath = "/v1/secret/x",
        Lease = $"secret/x/{i}", LeaseToken = owner, FetchedAt = time.GetUtcNow(), OriginalTtlSeconds = ttl,
        Lifetime = new CacheLifetime(time.GetUtcNow(), ttl),
    };

    [Fact]
    public async Task Renewer_HundredThousandEntries_OneTimerNoTaskPerEntry()
    {
        var time = new FakeTimeProvider();
        var sender = new FakeSender(_ => new RenewalResult(RenewalOutcome.Renewed, 600));
        var index = new CacheIndex(200_000, long.MaxValue);
        await using var renewer = new Renewer(time, sender, index, new GatehouseMetrics(), NullLogger.Instance);
        for (var i = 0; i < 100_000; i++)
        {
            var entry = Lease(time, i, 600 + (i % 600));
            Assert.Equal(CacheAddResult.Added, index.TryAdd(entry));
            renewer.Start(entry);
        }

        Assert.Equal(100_000, renewer.Queued);
        time.Advance(TimeSpan.FromSeconds(399));
        await renewer.WhenIdleAsync();
        Assert.Equal(0, sender.Calls);
        time.Advance(TimeSpan.FromSeconds(401));
        await renewer.WhenIdleAsync();
        Assert.Equal(100_000, sender.Calls);
        Assert.Equal(100_000, index.Count);
    }

    [Fact]
    public async Task Renewer_Deferred_LooksAgainInASecond_WithoutCountingAFailure()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        var answers = new Queue<RenewalResult>([new(RenewalOutcome.Deferred), new(RenewalOutcome.Renewed, 60)]);
        var sender = new FakeSender(_ => answers.Dequeue());
        await using var renewer = new Renewer(time, sender, index, new GatehouseMetrics(), NullLogger.Instance);
        var entry = Lease(time, 1, 60);
        index.TryAdd(entry);
        renewer.Start(entry);
        time.Advance(TimeSpan.FromSeconds(40));
        await renewer.WhenIdleAsync();
        Assert.Equal(1, sender.Calls);
        Assert.Equal(time.GetUtcNow() + Renewer.DeferredRetry, renewer.NextDue);
        time.Advance(Renewer.DeferredRetry);
        await renewer.WhenIdleAsync();
        Assert.Equal(2, sender.Calls);
        Assert.Equal(0, entry.RenewalFailures);
    }

    [Fact]
    public async Task Renewer_AdoptedRenewal_SchedulesFromTheOtherReplicasTime()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        var theirs = time.GetUtcNow().AddSeconds(39);
        var sender = new FakeSender(_ => new RenewalResult(RenewalOutcome.Renewed, 60, Since: theirs, Adopted: true));
        await using var renewer = new Renewer(time, sender, index, new GatehouseMetrics(), NullLogger.Instance);
        var entry = Lease(time, 1, 60);
        index.TryAdd(entry);
        renewer.Start(entry);
        time.Advance(TimeSpan.FromSeconds(41));
        await renewer.WhenIdleAsync();
        Assert.Equal(new CacheLifetime(theirs, 60), entry.Lifetime);
        Assert.Equal(theirs.AddSeconds(40), renewer.NextDue);
    }

    [Fact]
    public async Task Renewer_Refused_EvictsAtOnce()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        await using var renewer = new Renewer(time, new FakeSender(_ => new RenewalResult(RenewalOutcome.Refused)), index, new GatehouseMetrics(), NullLogger.Instance);
        var entry = Lease(time, 1, 60);
        index.TryAdd(entry);
        renewer.Start(entry);
        time.Advance(TimeSpan.FromSeconds(40));
        await renewer.WhenIdleAsync();
        Assert.True(entry.Evicted);
    }

    [Fact]
    public async Task Renewer_Failures_BackOffThenEvictWhenTtlRunsOut()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        var sender = new FakeSender(_ => new RenewalResult(RenewalOutcome.Failed, Error: "down"));
        await using var renewer = new Renewer(time, sender, index, new GatehouseMetrics(), NullLogger.Instance);
        var entry = Lease(time, 1, 3600);
        index.TryAdd(entry);
        renewer.Start(entry);
        time.Advance(TimeSpan.FromMinutes(40));
        await renewer.WhenIdleAsync();
        Assert.Equal(1, sender.Calls);

        // No tight loop: the next try waits the 10 s backoff.
        time.Advance(TimeSpan.FromSeconds(9));
        await renewer.WhenIdleAsync();
        Assert.Equal(1, sender.Calls);
        time.Advance(TimeSpan.FromSeconds(1));
        await renewer.WhenIdleAsync();
        Assert.Equal(2, sender.Calls);

        // Then each retry exactly when it is due: the backoff doubles (20, 40, 80, 160 s), is capped by half the time
        // left before the grace (a tenth of the first TTL, 360 s) and floored at 1 s; the first try inside the grace
        // evicts. That is 17 attempts in all, the last at 59 min 59.96 s, nowhere near a tight loop.
        var delays = new List<double>();
        while (!entry.Evicted)
        {
            Assert.True(delays.Count < 30, "the renewer keeps retrying");
            var due = renewer.NextDue!.Value - time.GetUtcNow();
            delays.Add(due.TotalSeconds);
            time.Advance(due);
            await renewer.WhenIdleAsync();
        }

        Assert.Equal([20, 40, 80, 160, 265], delays.Take(5));
        Assert.All(delays, d => Assert.True(d >= 1, $"{d} s between attempts"));
        Assert.Equal(17, sender.Calls);
        Assert.Null(renewer.NextDue);
    }

    [Fact]
    public async Task Renewer_CappedTtl_KeepsUntilMaxTtlThenEvicts()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        var sender = new FakeSender(_ => new RenewalResult(RenewalOutcome.Renewed, 100));
        await using var renewer = new Renewer(time, sender, index, new GatehouseMetrics(), NullLogger.Instance);
        var entry = Lease(time, 1, 600);
        index.TryAdd(entry);
        renewer.Start(entry);
        time.Advance(TimeSpan.FromSeconds(400));
        await renewer.WhenIdleAsync();
        Assert.False(entry.Evicted);
        time.Advance(TimeSpan.FromSeconds(40));
        await renewer.WhenIdleAsync();
        Assert.True(entry.Evicted);
        Assert.Equal(1, sender.Calls);
    }

    [Fact]
    public async Task Renewer_EvictedParent_TakesItsLeasesAlong()
    {
        var time = new FakeTimeProvider();
        var index = new CacheIndex(10, long.MaxValue);
        var parent = new CacheEntry
        {
            Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = "root/", RequestPath = "/v1/auth/approle/login",
            Token = "p", OriginalTtlSeconds = 60, Lifetime = new CacheLifetime(time.GetUtcNow(), 60),
        };
        index.TryAdd(parent);
        var lease = Lease(time, 1, 3600, owner: "p");
        Assert.Equal(CacheAddResult.Added, index.TryAdd(lease));
        await using var renewer = new Renewer(time, new FakeSender(e => e.Kind == CacheEntryKind.Token ? new(RenewalOutcome.Refused) : new(RenewalOutcome.Renewed, 3600)), index, new GatehouseMetrics(), NullLogger.Instance);
        renewer.Start(parent);
        renewer.Start(lease);
        time.Advance(TimeSpan.FromSeconds(41));
        await renewer.WhenIdleAsync();
        Assert.True(lease.Evicted);
        Assert.Equal(0, index.Count);
    }
}
