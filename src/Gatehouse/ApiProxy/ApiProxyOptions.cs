using Gatehouse.Configuration;

namespace Gatehouse.ApiProxy;

/// <summary>Run-time knobs of the API proxy that are not in the config file (tests and the host set them).</summary>
internal sealed record ApiProxyOptions
{
    /// <summary>How long a request waits for the first auto-auth token before a 503. The default is 10 seconds.</summary>
    public TimeSpan FirstTokenWait { get; init; } = Defaults.FirstTokenWait;

    /// <summary>How long Vault may stay silent on one attempt before a 504. The default is 60 seconds.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = Defaults.UpstreamTimeout;

    /// <summary>The most a request may spend with Vault, retries included. The default is 60 seconds.</summary>
    public TimeSpan RetryBudget { get; init; } = Defaults.UpstreamTimeout;

    /// <summary>The retry jitter source, values in [0, 1). Null means random.</summary>
    public Func<double>? RetryJitter { get; init; }
}
