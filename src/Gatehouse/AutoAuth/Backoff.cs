namespace Gatehouse.AutoAuth;

/// <summary>
/// Exponential backoff as Vault's auto-auth uses it (sdk/helper/backoff): each <see cref="Next"/> returns the current
/// step reduced by a random 0–25% (so many agents restarted together do not retry in lock-step), then doubles the
/// step up to the maximum. <see cref="Reset"/> after a success starts again from the minimum. The random source is
/// injected so tests assert the schedule exactly. Not thread-safe: each loop owns its own.
/// </summary>
internal sealed class Backoff
{
    /// <summary>At most this fraction is taken off a step.</summary>
    public const double MaxJitter = 0.25;

    private readonly Func<double> _random;
    private TimeSpan _current;

    /// <param name="min">The first step. Must be positive.</param>
    /// <param name="max">The largest step. Must be at least <paramref name="min"/>.</param>
    /// <param name="random">Returns a value in [0, 1); 0 means no jitter. Defaults to <see cref="Random.Shared"/>.</param>
    public Backoff(TimeSpan min, TimeSpan max, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(min, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        Min = min;
        Max = max;
        _random = random ?? Random.Shared.NextDouble;
        _current = min;
    }

    public TimeSpan Min { get; }

    public TimeSpan Max { get; }

    /// <summary>The step the next <see cref="Next"/> call starts from (before jitter).</summary>
    public TimeSpan Current => _current;

    /// <summary>The time to wait now; the following call waits about twice as long, up to the maximum.</summary>
    public TimeSpan Next()
    {
        var step = _current;
        var doubled = _current * 2;
        _current = doubled > Max ? Max : doubled;
        var jitter = Math.Clamp(_random(), 0, 1) * MaxJitter;
        return TimeSpan.FromTicks((long)Math.Floor(step.Ticks * (1 - jitter)));
    }

    /// <summary>After a success: the next failure waits the minimum again.</summary>
    public void Reset() => _current = Min;
}
