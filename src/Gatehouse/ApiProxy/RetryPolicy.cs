using System.Net.Http.Headers;

namespace Gatehouse.ApiProxy;

/// <summary>
/// When and how long to wait before sending a request to Vault again (<c>vault.retry.num_retries</c>). Retried: transport
/// failures after a connection was made, 412 (unless <c>when_inconsistent = "fail"</c>), 429 and 5xx except 501. The wait
/// before retry n is 250 ms × 2^(n-1), capped at 4 s, times a random 1.0–1.5; a <c>Retry-After</c> header replaces it.
/// No wait is started that would end past the overall budget (60 s, Vault's client timeout): the last answer is
/// returned instead. A 503 (Vault sealed, or a standby with no active node) has a shorter budget of its own
/// (<c>vault.retry.unavailable_budget</c>, 5 s): such an outage lasts minutes, and a client waiting 45 s for Vault's
/// 503 has usually given up already.
/// </summary>
internal sealed class RetryPolicy
{
    public static readonly TimeSpan InitialDelay = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(4);

    private readonly Func<double> _jitter;

    /// <param name="maxRetries">Retries after the first attempt; 0 disables retries.</param>
    /// <param name="budget">The longest a request may spend, retries and waits included.</param>
    /// <param name="retryPreconditionFailed">Whether a 412 from Vault is retried.</param>
    /// <param name="jitter">A source of values in [0, 1); tests pass a fixed one.</param>
    /// <param name="unavailableBudget">The longest a request may spend before a 503 from Vault is retried no more (null: <paramref name="budget"/>).</param>
    public RetryPolicy(int maxRetries, TimeSpan budget, bool retryPreconditionFailed, Func<double>? jitter = null, TimeSpan? unavailableBudget = null)
    {
        MaxRetries = Math.Max(maxRetries, 0);
        Budget = budget;
        UnavailableBudget = unavailableBudget is { } unavailable && unavailable < budget ? unavailable : budget;
        RetryPreconditionFailed = retryPreconditionFailed;
        _jitter = jitter ?? Random.Shared.NextDouble;
    }

    public int MaxRetries { get; }

    public TimeSpan Budget { get; }

    /// <summary>The budget for a 503 (Vault sealed, or no active node): never more than <see cref="Budget"/>.</summary>
    public TimeSpan UnavailableBudget { get; }

    public bool RetryPreconditionFailed { get; }

    public bool IsRetryableStatus(int statusCode) => statusCode switch
    {
        412 => RetryPreconditionFailed,
        429 => true, // as newer go-retryablehttp: rate limited (quotas), usually with a Retry-After to honour
        _ => statusCode >= 500 && statusCode != 501,
    };

    /// <summary>
    /// How long after the request began a retry may still end, for an answer with <paramref name="statusCode"/> (null: a
    /// transport failure).
    /// </summary>
    public TimeSpan BudgetFor(int? statusCode) => statusCode == 503 ? UnavailableBudget : Budget;

    /// <summary>The wait before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan Delay(int retry, TimeSpan? retryAfter)
    {
        if (retryAfter is { } after && after >= TimeSpan.Zero)
        {
            return after;
        }

        var exponent = Math.Min(retry - 1, 16);
        var baseDelay = Math.Min(InitialDelay.TotalMilliseconds * Math.Pow(2, exponent), MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(baseDelay * (1.0 + (0.5 * _jitter())));
    }

    /// <summary>Reads <c>Retry-After</c> as seconds or as an HTTP date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        var value = headers.RetryAfter;
        if (value is null)
        {
            return null;
        }

        if (value.Delta is { } delta)
        {
            return delta;
        }

        return value.Date is { } date ? (date > now ? date - now : TimeSpan.Zero) : null;
    }
}
