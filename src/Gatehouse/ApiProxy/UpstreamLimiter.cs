using System.Threading.RateLimiting;

namespace Gatehouse.ApiProxy;

/// <summary>
/// Bounds the proxied requests with Vault at once (<c>api_proxy.max_upstream_requests</c>, 256 by default). Without a
/// bound, 2,000 client connections meant 2,000 upstream connections opened at once: past the listen backlog of Vault
/// (and of anything in between), connects were dropped and retried by TCP after 1, 3, 7 and 15 s, so a few requests
/// waited 15 s while most took 100 ms. With it, requests past the bound wait in one queue, oldest first
/// (<see cref="ConcurrencyLimiter"/>, <see cref="QueueProcessingOrder.OldestFirst"/>), so each waits about as long as
/// the others; one that waits longer than <c>api_proxy.upstream_queue_timeout</c> (5 s) is not sent at all, and the
/// client gets a 503 with <c>Retry-After</c> at once instead of a long wait. The queue is bounded by that time, not by a
/// length. A permit covers one attempt, answer streamed included; a request waiting to retry holds none.
/// </summary>
internal sealed class UpstreamLimiter : IDisposable
{
    /// <summary>The <c>Retry-After</c> of a shed request, in seconds: a moment for the queue to drain.</summary>
    public const int ShedRetryAfterSeconds = 2;

    private readonly ConcurrencyLimiter _limiter;
    private readonly TimeProvider _time;

    public UpstreamLimiter(int maxRequests, TimeSpan queueTimeout, TimeProvider time)
    {
        MaxRequests = maxRequests;
        QueueTimeout = queueTimeout;
        _time = time;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = maxRequests,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            QueueLimit = int.MaxValue,
        });
    }

    public int MaxRequests { get; }

    public TimeSpan QueueTimeout { get; }

    /// <summary>Requests waiting for a permit now.</summary>
    public long Queued => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Requests holding a permit (with Vault) now.</summary>
    public long Active => MaxRequests - (_limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxRequests);

    /// <summary>
    /// Raised when a request starts waiting in the queue (after it was queued). Tests use it as the "request is queued"
    /// signal.
    /// </summary>
    internal event Action? Waiting;

    /// <summary>The failure a shed request answers with (503 and <c>Retry-After</c>, see <see cref="ProxyErrorWriter"/>).</summary>
    public ProxyFailure ShedFailure => new(
        ProxyFailureKind.Overloaded,
        $"too many requests waiting for Vault: this one waited {Configuration.EffectiveConfigJson.GoDuration(QueueTimeout)} for one of the " +
        $"{MaxRequests} upstream request slots (api_proxy.max_upstream_requests) and was not sent; retry after {ShedRetryAfterSeconds}s");

    /// <summary>
    /// A permit for one attempt (dispose it when the attempt is over), or null when none came within the queue
    /// timeout: the request is shed. Throws <see cref="OperationCanceledException"/> when the client went away while
    /// waiting (it leaves the queue).
    /// </summary>
    public async ValueTask<RateLimitLease?> AcquireAsync(CancellationToken cancellationToken)
    {
        var lease = _limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();

        // Queued: the deadline runs on the injected clock; the client's cancellation cancels the wait too.
        using var deadline = new CancellationTokenSource(QueueTimeout, _time);
        using var clientGone = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
        try
        {
            var pending = _limiter.AcquireAsync(1, deadline.Token);
            if (!pending.IsCompleted)
            {
                Waiting?.Invoke();
            }

            lease = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (lease.IsAcquired && !cancellationToken.IsCancellationRequested)
        {
            return lease;
        }

        // Granted just as the client went away (the permit goes back), or refused (the queue cannot be full: no length limit).
        lease.Dispose();
        cancellationToken.ThrowIfCancellationRequested();
        return null;
    }

    public void Dispose() => _limiter.Dispose();
}
