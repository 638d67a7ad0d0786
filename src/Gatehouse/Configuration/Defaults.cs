namespace Gatehouse.Configuration;

/// <summary>Every configuration default, named once.</summary>
internal static class Defaults
{
    public const string VaultAddress = "https://127.0.0.1:8200";

    public const string ListenerAddress = "127.0.0.1:8200";

    /// <summary>vault.retry.num_retries; 0 also means this.</summary>
    public const int NumRetries = 12;

    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>File sink mode: 0640.</summary>
    public const int FileSinkMode = 0b110_100_000;

    public const string KubernetesTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    /// <summary>cache.static_secret_token_capability_refresh_interval: 5 minutes.</summary>
    public static readonly TimeSpan StaticSecretCapabilityRefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>cache.static_secret_refresh_interval (ours): how often cached static secrets are revalidated, 30 seconds.</summary>
    public static readonly TimeSpan StaticSecretRefreshInterval = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan PrometheusRetentionTime = TimeSpan.FromHours(24);

    /// <summary>telemetry.otlp_export_interval: OpenTelemetry's default metric export interval.</summary>
    public static readonly TimeSpan OtlpExportInterval = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan LogRotateDuration = TimeSpan.FromHours(24);

    public const string LogLevel = "info";

    public const string LogFormat = "standard";

    /// <summary>Lease cache bound on entries (ours).</summary>
    public const int CacheMaxEntries = 100_000;

    /// <summary>Lease cache bound on stored response bytes (ours): 256 MiB.</summary>
    public const long CacheMaxBytes = 256L * 1024 * 1024;

    /// <summary>cache.shared.key_prefix (ours): the prefix of every Redis key Gatehouse writes.</summary>
    public const string SharedKeyPrefix = "gatehouse:";

    /// <summary>cache.shared.connect_timeout (ours): how long one connection attempt to Redis may take, 5 seconds.</summary>
    public static readonly TimeSpan SharedConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// cache.shared.operation_timeout (ours): the most one Redis operation may add to anything waiting on it, 250 ms;
    /// past it the operation counts as failed and the caller goes on without Redis.
    /// </summary>
    public static readonly TimeSpan SharedOperationTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a proxied request waits for the first auto-auth token before a 503 (ours).</summary>
    public static readonly TimeSpan FirstTokenWait = TimeSpan.FromSeconds(10);

    /// <summary>How long Vault may stay silent on a proxied request, and the budget for its retries (Vault's client timeout).</summary>
    public static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// api_proxy.max_upstream_requests (ours): proxied requests sent to Vault at once; the rest wait their turn in
    /// arrival order. A few hundred keeps a 2-core Vault busy without thousands of connections.
    /// </summary>
    public const int MaxUpstreamRequests = 256;

    /// <summary>api_proxy.upstream_queue_timeout (ours): how long a request waits for its turn before a 503: 5 seconds.</summary>
    public static readonly TimeSpan UpstreamQueueTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// vault.retry.unavailable_budget (ours): how long after a request arrived a 503 from Vault (sealed, no active node)
    /// may still be retried: 5 seconds, well inside clients' timeouts.
    /// </summary>
    public static readonly TimeSpan UnavailableRetryBudget = TimeSpan.FromSeconds(5);

    /// <summary>listener max_request_size: the largest request body a listener accepts, 32 MiB (as Vault).</summary>
    public const long MaxRequestSize = 32L * 1024 * 1024;
}
