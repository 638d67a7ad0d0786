using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth;

/// <summary>
/// Tells the auth loop, waiting out a login backoff after Vault was unavailable, that Vault is back: the backoff grows
/// to <c>max_backoff</c> (5 minutes by default), and without this the first login after an outage waited for the next
/// slot however early Vault returned.
/// </summary>
/// <remarks>
/// <para>Vault is back when a <c>sys/health</c> probe (<see cref="VaultClient.HealthAsync"/>: unauthenticated, cheap,
/// standbys count as ready) succeeds after Vault was seen down: the failed attempt got no answer at all, or a probe
/// failed. A ready probe alone is not enough: if the login fails with a 503 while the health check passes, probing
/// must not turn the backoff into a login every few seconds.</para>
/// <para>Probes go out every <see cref="ProbeInterval"/> less a random 0–25% (so agents restarted together spread
/// out), and at once, but never two within <see cref="MinProbeSpacing"/>, when Vault answers anything after it was
/// unreachable (<see cref="Telemetry.VaultReachability.NextRecovery"/>: a proxied request got through). One probe is in
/// flight at most, and the loop logs in once when this completes, however many signals arrived.</para>
/// </remarks>
internal sealed partial class VaultRecovery
{
    /// <summary>How often Vault is probed while the loop waits after an outage (before jitter).</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    /// <summary>The least time between two probes, whatever the signals.</summary>
    public static readonly TimeSpan MinProbeSpacing = TimeSpan.FromMilliseconds(500);

    private readonly VaultClient _client;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly ILogger _logger;

    public VaultRecovery(VaultClient client, TimeProvider time, Func<double> random, ILogger logger)
    {
        _client = client;
        _time = time;
        _random = random;
        _logger = logger;
    }

    /// <summary>
    /// Test hook: raised each time the next probe is armed (advancing a fake clock by <see cref="ProbeInterval"/> then
    /// sends it).
    /// </summary>
    internal event Action? Armed;

    /// <summary>
    /// Completes when Vault is seen ready after being seen down, before <paramref name="until"/> (the end of the
    /// backoff, when the caller's own timer takes over and nothing more is probed). <paramref name="seenDown"/>: the
    /// failure that started the wait got no answer from Vault. Ends only by cancellation otherwise.
    /// </summary>
    public async Task WaitAsync(bool seenDown, DateTimeOffset until, CancellationToken cancellationToken)
    {
        // Everything up to the first await runs before the caller announces its wait: the first tick is armed then.
        DateTimeOffset? lastProbe = null;
        while (true)
        {
            var signalled = await PauseAsync(cancellationToken).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            if (now >= until)
            {
                // The backoff is over: the caller logs in on its own timer.
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
            }

            if (lastProbe is { } last && now - last < MinProbeSpacing)
            {
                await Task.Delay(MinProbeSpacing - (now - last), _time, cancellationToken).ConfigureAwait(false);
            }

            lastProbe = _time.GetUtcNow();
            var health = await _client.HealthAsync(cancellationToken).ConfigureAwait(false);
            if (health.IsSuccess && seenDown)
            {
                Log.VaultReady(_logger, signalled ? "Vault answered a proxied request" : "periodic probe");
                return;
            }

            if (!health.IsSuccess)
            {
                seenDown = true;
                Log.NotReady(_logger, health.Error!);
            }
        }
    }

    /// <summary>Until the next probe is due: true when cut short because Vault answered after being unreachable.</summary>
    private async Task<bool> PauseAsync(CancellationToken cancellationToken)
    {
        using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tick = Task.Delay(ProbeInterval * (1 - 0.25 * Math.Clamp(_random(), 0, 1)), _time, pause.Token);
        Armed?.Invoke();
        if (_client.Reachability?.NextRecovery is not { } recovered || await Task.WhenAny(tick, recovered).ConfigureAwait(false) == tick)
        {
            await tick.ConfigureAwait(false);
            return false;
        }

        // Stops the tick's timer; the next pause arms a new one.
        await pause.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "auto-auth: Vault is not ready yet (sys/health: {Error})")]
        public static partial void NotReady(ILogger logger, VaultError error);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "auto-auth: sys/health says Vault is ready ({Signal})")]
        public static partial void VaultReady(ILogger logger, string signal);
    }
}
