using System.Threading.Channels;

namespace Gatehouse.AutoAuth;

/// <summary>
/// The current auto-auth token as an immutable snapshot. The proxy reads <see cref="Current"/> on every request with no
/// lock and no call into auth; the auth loop publishes; the proxy reports tokens Vault rejected, and several reports at
/// once collapse into one (a bounded channel of one that keeps the newest).
/// </summary>
internal sealed class TokenStore
{
    private readonly TaskCompletionSource _firstToken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<string> _rejections = Channel.CreateBounded<string>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private AutoAuthToken? _current;
    private AutoAuthToken? _restored;

    /// <summary>The newest token, or null before the first login.</summary>
    public AutoAuthToken? Current => Volatile.Read(ref _current);

    /// <summary>
    /// The auto-auth token restored from the persistent cache while Vault has not confirmed it: the proxy may use it to
    /// look answers up in the cache, never to send a request. Null once a token is published (this one adopted, or a
    /// new login) and once Vault refused it.
    /// </summary>
    public AutoAuthToken? Restored => Volatile.Read(ref _restored);

    /// <summary>Completes when the first token is published.</summary>
    public Task FirstToken => _firstToken.Task;

    /// <summary>Raised after each publish, on the publishing thread.</summary>
    public event Action<AutoAuthToken>? Published;

    /// <summary>Raised, on the auth loop's thread, when Vault refused the restored token (see <see cref="RefuseRestored"/>).</summary>
    public event Action<AutoAuthToken>? RestoredRefused;

    public void Publish(AutoAuthToken token)
    {
        // Current first: a reader that finds no restored token then finds this one.
        Volatile.Write(ref _current, token);
        Volatile.Write(ref _restored, null);
        _firstToken.TrySetResult();
        Published?.Invoke(token);
    }

    /// <summary>
    /// Offers a token restored from the persistent cache to auto-auth (Vault's "preloaded token"): the auth loop adopts
    /// it after a successful lookup-self instead of logging in, and until then it is <see cref="Restored"/>. It is not
    /// published until Vault confirms it.
    /// </summary>
    public void Preload(AutoAuthToken token) => Volatile.Write(ref _restored, token);

    /// <summary>
    /// Vault refused the restored token (revoked, expired): it is no longer used for lookups, and the cache drops what
    /// it holds under it (<see cref="RestoredRefused"/>).
    /// </summary>
    public void RefuseRestored(AutoAuthToken token)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _restored, null, token), token))
        {
            RestoredRefused?.Invoke(token);
        }
    }

    /// <summary>Stops using the restored token for lookups without judging it (it will not be adopted).</summary>
    public void DropRestored(AutoAuthToken token) => Interlocked.CompareExchange(ref _restored, null, token);

    /// <summary>Forgets the token (it was revoked or expired) until the next publish.</summary>
    public void Clear(AutoAuthToken expected) => Interlocked.CompareExchange(ref _current, null, expected);

    /// <summary>
    /// Waits for a token for at most <paramref name="timeout"/>. Returns null when none arrived in time; the caller
    /// then answers 503 instead of sending a token-less request.
    /// </summary>
    public async ValueTask<AutoAuthToken?> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Current is { } token)
        {
            return token;
        }

        try
        {
            await _firstToken.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }

        return Current;
    }

    /// <summary>Called by the proxy when Vault answered 403 to a request made with <paramref name="token"/>.</summary>
    public void ReportRejected(string token)
    {
        if (Current?.Token == token)
        {
            _rejections.Writer.TryWrite(token);
        }
    }

    /// <summary>Rejection reports for the auth loop: at most one is ever pending.</summary>
    public ChannelReader<string> Rejections => _rejections.Reader;
}
