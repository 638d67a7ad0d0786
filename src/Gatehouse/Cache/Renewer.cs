using System.Threading.Channels;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache;

/// <summary>
/// Keeps every cached token and lease alive with ONE scheduler: a priority queue of due times and a single
/// <see cref="TimeProvider"/> timer set to the earliest one, feeding a few worker loops through a channel. There is
/// no task or timer per entry, so 100,000 entries cost a heap of 100,000 small items.
/// Renewal happens at two thirds of the TTL. A 4xx evicts at once; a 5xx or no answer retries with exponential
/// backoff (10 s doubling to 5 min, never sooner than 1 s) until the TTL runs out. When Vault caps the TTL (max TTL
/// reached) the entry is kept until it expires, minus a grace of a tenth of its first TTL, and then evicted.
/// Stopping does not evict anything, so a persisted cache survives a restart.
/// </summary>
internal sealed partial class Renewer : IAsyncDisposable
{
    public const int Workers = 4;
    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>How soon a <see cref="RenewalOutcome.Deferred"/> renewal looks again for the other replica's answer.</summary>
    public static readonly TimeSpan DeferredRetry = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly IRenewalSender _sender;
    private readonly CacheIndex _index;
    private readonly GatehouseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly PriorityQueue<(CacheEntry Entry, long Version, bool Expire), DateTimeOffset> _queue = new();
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private readonly Channel<(CacheEntry Entry, bool Expire)> _work = Channel.CreateUnbounded<(CacheEntry, bool)>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _workers;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue;
    private int _pending;
    private int _disposed;
    private TaskCompletionSource? _idle;

    public Renewer(TimeProvider time, IRenewalSender sender, CacheIndex index, GatehouseMetrics metrics, ILogger logger)
    {
        _time = time;
        _sender = sender;
        _index = index;
        _metrics = metrics;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((Renewer)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _workers = [.. Enumerable.Range(0, Workers).Select(_ => Task.Run(() => RunAsync(_stopping.Token)))];
    }

    /// <summary>Raised after each successful renewal (persistence records the new LastRenewed).</summary>
    public event Action<CacheEntry>? Renewed;

    /// <summary>Scheduled items, stale ones included (they are dropped lazily when they come due).</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// When the earliest scheduled item comes due, or null when nothing is scheduled (tests advance a fake clock
    /// exactly to it instead of stepping).
    /// </summary>
    internal DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _queue.TryPeek(out _, out var due) ? due : null;
            }
        }
    }

    /// <summary>Timers the renewer holds: always one, whatever the number of entries.</summary>

    /// <summary>Schedules an entry's first renewal at two thirds of its remaining TTL.</summary>
    public void Start(CacheEntry entry)
    {
        if (entry.Kind is CacheEntryKind.AutoAuthToken or CacheEntryKind.StaticSecret)
        {
            return;
        }

        var lifetime = entry.Lifetime;
        var remaining = lifetime.ExpiresAt - _time.GetUtcNow();
        Schedule(entry, _time.GetUtcNow() + (remaining * 2 / 3), expire: false);
    }

    public void Schedule(CacheEntry entry, DateTimeOffset due, bool expire)
    {
        lock (_lock)
        {
            var version = ++entry.ScheduleVersion;
            _queue.Enqueue((entry, version, expire), due);
            if (due < _timerDue)
            {
                _timerDue = due;
                _timer.Change(Max(due - _time.GetUtcNow(), TimeSpan.Zero), Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Completes when nothing is due and no renewal is in flight (tests await it after advancing time).</summary>
    public Task WhenIdleAsync()
    {
        lock (_lock)
        {
            if (_pending == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    private void OnTimer()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            while (_queue.TryPeek(out var item, out var due) && due <= now)
            {
                _queue.Dequeue();
                if (item.Version != item.Entry.ScheduleVersion || item.Entry.Evicted)
                {
                    continue;
                }

                _pending++;
                _work.Writer.TryWrite((item.Entry, item.Expire));
            }

            _timerDue = _queue.TryPeek(out _, out var next) ? next : DateTimeOffset.MaxValue;
            if (_timerDue != DateTimeOffset.MaxValue)
            {
                _timer.Change(Max(_timerDue - now, TimeSpan.Zero), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (entry, expire) in _work.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    if (!entry.Evicted)
                    {
                        await ProcessAsync(entry, expire, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // A bug in one renewal must not stop the others: log it and try that entry again later.
                    Log.RenewalCrashed(_logger, entry.ToString(), exception);
                    Schedule(entry, _time.GetUtcNow() + MaxBackoff, expire: false);
                }
                finally
                {
                    Done();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Done()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (--_pending == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    private async Task ProcessAsync(CacheEntry entry, bool expire, CancellationToken cancellationToken)
    {
        // Step map: 1. an expiry item evicts; 2. renew; 3. refused → evict; 4. failed → back off or, out of time,
        // evict; 5. renewed with the TTL capped (max TTL) → keep until expiry minus grace; 6. renewed → next at ⅔.
        var now = _time.GetUtcNow();
        var grace = Grace(entry);
        if (expire)
        {
            Evict(entry, EvictionReason.MaxTtl);
            return;
        }

        var result = await _sender.RenewAsync(entry, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == RenewalOutcome.Deferred)
        {
            // Shared cache: another replica renews this period; its answer is adopted on the next look.
            Schedule(entry, _time.GetUtcNow() + DeferredRetry, expire: false);
            return;
        }

        _metrics.CacheRenewal(result.Outcome switch
        {
            RenewalOutcome.Renewed when result.Adopted => "adopted",
            RenewalOutcome.Renewed => "ok",
            RenewalOutcome.Refused => "refused",
            _ => "failed",
        });
        now = _time.GetUtcNow();
        switch (result.Outcome)
        {
            case RenewalOutcome.Refused:
                Log.RenewalRefused(_logger, entry.ToString(), result.Error);
                Evict(entry, EvictionReason.RenewalRefused);
                return;

            case RenewalOutcome.Failed:
            {
                var failures = ++entry.RenewalFailures;
                var remaining = entry.Lifetime.ExpiresAt - now;
                if (remaining <= grace)
                {
                    Log.RenewalGaveUp(_logger, entry.ToString(), result.Error);
                    Evict(entry, EvictionReason.Expired);
                    return;
                }

                var backoff = TimeSpan.FromTicks(Math.Min(MinBackoff.Ticks << Math.Min(failures - 1, 20), MaxBackoff.Ticks));
                var delay = Max(TimeSpan.FromSeconds(1), Min(backoff, (remaining - grace) / 2));
                Log.RenewalFailed(_logger, entry.ToString(), result.Error, delay);
                Schedule(entry, now + delay, expire: false);
                return;
            }
        }

        entry.RenewalFailures = 0;
        var ttl = TimeSpan.FromSeconds(result.TtlSeconds);
        if (ttl <= grace)
        {
            Evict(entry, EvictionReason.MaxTtl);
            return;
        }

        var since = result.Since ?? now;
        entry.Lifetime = new CacheLifetime(since, result.TtlSeconds);
        Renewed?.Invoke(entry);
        if (result.TtlSeconds < entry.OriginalTtlSeconds)
        {
            // Vault capped the TTL: the max TTL is near and renewing again cannot extend it.
            Schedule(entry, since + ttl - grace, expire: true);
        }
        else
        {
            Schedule(entry, since + (ttl * 2 / 3), expire: false);
        }
    }

    private void Evict(CacheEntry entry, EvictionReason reason) => _index.Evict(entry, reason);

    private static TimeSpan Grace(CacheEntry entry) => Max(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(entry.OriginalTtlSeconds / 10.0));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _work.Writer.TryComplete();
        await _timer.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.RenewerRenewalRefused, LogLevel.Information, "Vault refused to renew cached {Entry}: {Error}; evicting it")]
        public static partial void RenewalRefused(ILogger logger, string entry, string? error);

        [LoggerMessage(LogEvents.RenewerRenewalFailed, LogLevel.Warning, "Renewing cached {Entry} failed ({Error}); retrying in {Delay}")]
        public static partial void RenewalFailed(ILogger logger, string entry, string? error, TimeSpan delay);

        [LoggerMessage(LogEvents.RenewerRenewalGaveUp, LogLevel.Warning, "Renewing cached {Entry} failed ({Error}) and its TTL ran out; evicting it")]
        public static partial void RenewalGaveUp(ILogger logger, string entry, string? error);

        [LoggerMessage(LogEvents.RenewerRenewalCrashed, LogLevel.Error, "Renewal of cached {Entry} crashed")]
        public static partial void RenewalCrashed(ILogger logger, string entry, Exception exception);
    }
}
