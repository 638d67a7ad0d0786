namespace Gatehouse.AutoAuth;

/// <summary>
/// The loop of a method's credential poller (aws iam, alicloud, oci), as Vault's <c>pollForCreds</c>: every interval on the
/// injected clock, one poll, until shutdown. The poll itself logs its failures and reports changes.
/// </summary>
internal static class CredentialPoller
{
    /// <param name="interval">Vault's <c>credential_poll_interval</c>.</param>
    /// <param name="time">The clock the wait runs on.</param>
    /// <param name="waiting">Called each time the timer is armed (a test hook).</param>
    /// <param name="poll">One poll.</param>
    /// <param name="cancellationToken">Shutdown.</param>
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Action waiting, Func<CancellationToken, Task> poll,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var tick = Task.Delay(interval, time, cancellationToken);
            waiting();
            await tick.ConfigureAwait(false);
            await poll(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// What a credential-watching method (aws iam, alicloud, oci) last logged in or polled with, and the signal its auth
/// handler waits on (<see cref="ICredentialWatchingAuthMethod.NewCredentials"/>): a poll whose answer differs from the
/// last one seen signals once; the first answer is only remembered. Safe to use from the login and the poller at once.
/// </summary>
/// <param name="same">Whether two answers are the same credentials (default: <see cref="EqualityComparer{T}.Default"/>).</param>
internal sealed class CredentialWatch<T>(Func<T, T, bool>? same = null)
    where T : class
{
    private readonly Func<T, T, bool> _same = same ?? EqualityComparer<T>.Default.Equals;
    private readonly System.Threading.Channels.Channel<bool> _changed = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });
    private readonly Lock _gate = new();
    private T? _last;

    public System.Threading.Channels.ChannelReader<bool> Changed => _changed.Reader;

    /// <summary>The credentials last seen, or null before any.</summary>
    public T? Last
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>A login used <paramref name="value"/>: later polls compare with it.</summary>
    public void Remember(T value)
    {
        lock (_gate)
        {
            _last = value;
        }
    }

    /// <summary>Remembers <paramref name="value"/> unless something was seen already; returns what is remembered.</summary>
    public T RememberFirst(T value)
    {
        lock (_gate)
        {
            return _last ??= value;
        }
    }

    /// <summary>
    /// One poll's answer: when it differs from the last one seen, <paramref name="changed"/> runs (the method's log
    /// line, written before the handler can act on the signal) and the signal is raised.
    /// </summary>
    public void Observe(T current, Action<T> changed)
    {
        lock (_gate)
        {
            if (_last is null || _same(_last, current))
            {
                _last ??= current;
                return;
            }

            _last = current;
        }

        changed(current);
        _changed.Writer.TryWrite(true);
    }
}
