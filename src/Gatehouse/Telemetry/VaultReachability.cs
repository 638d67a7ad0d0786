namespace Gatehouse.Telemetry;

/// <summary>
/// Whether Vault answers. The forwarder and the auth loop call <see cref="ReportSuccess"/> on any response from Vault
/// (any status: Vault answered) and <see cref="ReportFailure"/> when it could not be reached (connect error, timeout).
/// Lock-free: two longs, and a completion source that exists only while someone waits for <see cref="NextRecovery"/>.
/// </summary>
internal sealed class VaultReachability(TimeProvider time)
{
    private const long Never = long.MinValue;

    private long _unreachableSinceTicks = Never;
    private long _lastSuccessTicks = Never;
    private TaskCompletionSource? _recovery;

    public void ReportSuccess()
    {
        Volatile.Write(ref _lastSuccessTicks, time.GetUtcNow().UtcTicks);

        // Read before the exchange: on the request path Vault is reachable and nothing is written here.
        if (Volatile.Read(ref _unreachableSinceTicks) != Never && Interlocked.Exchange(ref _unreachableSinceTicks, Never) != Never)
        {
            Interlocked.Exchange(ref _recovery, null)?.TrySetResult();
        }
    }

    /// <summary>
    /// Completes the next time Vault answers after it was reported unreachable: once for the first answer, however
    /// many follow. The auth loop, waiting out a login backoff, then checks at once whether it can log in.
    /// </summary>
    public Task NextRecovery
    {
        get
        {
            if (Volatile.Read(ref _recovery) is { } current)
            {
                return current.Task;
            }

            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return (Interlocked.CompareExchange(ref _recovery, fresh, null) ?? fresh).Task;
        }
    }

    public void ReportFailure() =>
        Interlocked.CompareExchange(ref _unreachableSinceTicks, time.GetUtcNow().UtcTicks, Never);

    /// <summary>True until a failure is reported, and again after the next success.</summary>
    public bool IsReachable => Volatile.Read(ref _unreachableSinceTicks) == Never;

    /// <summary>How long Vault has been unreachable, or zero when it is reachable.</summary>
    public TimeSpan UnreachableFor
    {
        get
        {
            long since = Volatile.Read(ref _unreachableSinceTicks);
            return since == Never ? TimeSpan.Zero : time.GetUtcNow() - new DateTimeOffset(since, TimeSpan.Zero);
        }
    }

    public DateTimeOffset? LastSuccess
    {
        get
        {
            long ticks = Volatile.Read(ref _lastSuccessTicks);
            return ticks == Never ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }
}
