using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// The effective configuration: every file merged, environment and flags applied, validated. Immutable.
/// A null member means "not set"; <see cref="Defaults"/> names every default once.
/// </summary>
internal sealed record GatehouseConfig
{
    public VaultConfig Vault { get; init; } = new();

    public AutoAuthConfig? AutoAuth { get; init; }

    public ApiProxyConfig? ApiProxy { get; init; }

    /// <summary>Present (even empty) means the lease cache is on.</summary>
    public CacheConfig? Cache { get; init; }

    public IReadOnlyList<ListenerConfig> Listeners { get; init; } = [];

    public TelemetryConfig? Telemetry { get; init; }

    public string? PidFile { get; init; }

    public bool ExitAfterAuth { get; init; }

    /// <summary>trace, debug, info, warn or error. The default is info.</summary>
    public string? LogLevel { get; init; }

    /// <summary>standard or json. The default is standard.</summary>
    public string? LogFormat { get; init; }

    public string? LogFile { get; init; }

    public long? LogRotateBytes { get; init; }

    public TimeSpan? LogRotateDuration { get; init; }

    public int? LogRotateMaxFiles { get; init; }

    /// <summary>Which upstream clients close idle connections at once: auto-auth, caching/proxying.</summary>
    public UpstreamClientSet DisableIdleConnections { get; init; }

    /// <summary>Which upstream clients open a new connection per request: auto-auth, caching/proxying.</summary>
    public UpstreamClientSet DisableKeepAlives { get; init; }

    /// <summary>The files this configuration was read from, in load order (for reload and messages).</summary>
    public IReadOnlyList<string> SourceFiles { get; init; } = [];

    /// <summary>
    /// Where each top-level, <c>vault</c> and <c>api_proxy</c> value in effect was set, by the path messages use
    /// (<c>log_level</c>, <c>vault.address</c>, <c>vault.retry.num_retries</c>, <c>api_proxy.max_upstream_requests</c>): the value's place in a file, or the environment variable
    /// or flag that set it (<see cref="ConfigDiagnostic.Environment"/>, <see cref="ConfigDiagnostic.Flag"/>). A value
    /// left at its default has no entry. The validator reports a problem with such a value at its origin.
    /// </summary>
    public ImmutableDictionary<string, SourcePosition> Origins { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;
}

/// <summary>The upstream clients named by <c>disable_idle_connections</c> / <c>disable_keep_alives</c>.</summary>
[Flags]
internal enum UpstreamClientSet
{
    None = 0,
    AutoAuth = 1,
    /// <summary><c>proxying</c> or <c>caching</c>: the client that forwards API proxy requests.</summary>
    Proxying = 2,
}

/// <summary>The <c>vault</c> stanza: the upstream server.</summary>
internal sealed record VaultConfig
{
    /// <summary>The default is https://127.0.0.1:8200.</summary>
    public string? Address { get; init; }

    public string? CaCert { get; init; }

    public string? CaPath { get; init; }

    public string? ClientCert { get; init; }

    public string? ClientKey { get; init; }

    public bool TlsSkipVerify { get; init; }

    public string? TlsServerName { get; init; }

    public string? Namespace { get; init; }

    /// <summary>Null means the default, 12 retries. -1 disables retries; 0 also means 12, as in Vault.</summary>
    public int? NumRetries { get; init; }

    /// <summary>
    /// Ours (<c>retry { unavailable_budget }</c>): a 503 from Vault is retried only while the request is younger than
    /// this; then Vault's answer goes to the client. Null means the default, 5 seconds; zero: a 503 is never retried.
    /// </summary>
    public TimeSpan? UnavailableRetryBudget { get; init; }

    /// <summary>The address in use: an empty one means the default, as in Vault.</summary>
    public string EffectiveAddress => string.IsNullOrEmpty(Address) ? Defaults.VaultAddress : Address;

    public int EffectiveNumRetries => NumRetries is null or 0 ? Defaults.NumRetries : Math.Max(NumRetries.Value, 0);

    public TimeSpan EffectiveUnavailableRetryBudget => UnavailableRetryBudget ?? Defaults.UnavailableRetryBudget;
}

/// <summary>The <c>auto_auth</c> stanza.</summary>
internal sealed record AutoAuthConfig
{
    public required AuthMethodConfig Method { get; init; }

    public IReadOnlyList<SinkConfig> Sinks { get; init; } = [];

    public bool EnableReauthOnNewCredentials { get; init; }

    public SourcePosition Position { get; init; }
}

/// <summary><c>auto_auth { method "type" { ... } }</c>.</summary>
internal sealed record AuthMethodConfig
{
    /// <summary>approle, token_file, jwt, kubernetes or cert (lower-cased).</summary>
    public required string Type { get; init; }

    /// <summary>The default is auth/&lt;type&gt; (auth/token for token_file); a trailing slash is trimmed.</summary>
    public string? MountPath { get; init; }

    public string? Namespace { get; init; }

    /// <summary>When set, the login is response-wrapped and sinks receive the wrap info.</summary>
    public TimeSpan? WrapTtl { get; init; }

    /// <summary>The default is 1 second.</summary>
    public TimeSpan? MinBackoff { get; init; }

    /// <summary>The default is 5 minutes.</summary>
    public TimeSpan? MaxBackoff { get; init; }

    public bool ExitOnError { get; init; }

    /// <summary>The method's own keys (role_id_file_path, path, role, ...), values as bound from the file.</summary>
    public ConfigMap Config { get; init; } = ConfigMap.Empty;

    public SourcePosition Position { get; init; }

    public string EffectiveMountPath =>
        Type == "token_file" ? "auth/token" : (MountPath?.TrimEnd('/') ?? $"auth/{Type}");

    public TimeSpan EffectiveMinBackoff => MinBackoff ?? Defaults.MinBackoff;

    public TimeSpan EffectiveMaxBackoff => MaxBackoff ?? Defaults.MaxBackoff;
}

/// <summary><c>auto_auth { sink "file" { ... } }</c>.</summary>
internal sealed record SinkConfig
{
    /// <summary>Only <c>file</c> is a real sink type.</summary>
    public required string Type { get; init; }

    public TimeSpan? WrapTtl { get; init; }

    /// <summary>Only <c>curve25519</c>.</summary>
    public string? DhType { get; init; }

    public string? DhPath { get; init; }

    public bool DeriveKey { get; init; }

    /// <summary>The additional authenticated data, already resolved from <c>aad_env_var</c> when that is set.</summary>
    public string? Aad { get; init; }

    public string? AadEnvVar { get; init; }

    /// <summary>The sink's own keys (path, mode, uid, gid), values as bound from the file.</summary>
    public ConfigMap Config { get; init; } = ConfigMap.Empty;

    public SourcePosition Position { get; init; }
}

/// <summary>How the API proxy chooses the token it sends upstream.</summary>
internal enum AutoAuthTokenMode
{
    /// <summary><c>false</c>: requests go upstream untouched.</summary>
    Off,

    /// <summary><c>true</c>: the auto-auth token is added when the request carries none.</summary>
    WhenMissing,

    /// <summary><c>"force"</c>: the auto-auth token replaces whatever the request carried.</summary>
    Force,
}

internal enum EnforceConsistency
{
    Never,
    Always,
}

internal enum WhenInconsistent
{
    Fail,
    Retry,
    Forward,
}

/// <summary>The <c>api_proxy</c> stanza (or the legacy <c>cache</c> keys that mean the same).</summary>
internal sealed record ApiProxyConfig
{
    public AutoAuthTokenMode UseAutoAuthToken { get; init; }

    public EnforceConsistency EnforceConsistency { get; init; }

    public WhenInconsistent WhenInconsistent { get; init; }

    /// <summary>
    /// Ours: how many proxied requests may be with Vault at once; the others queue, oldest first. Null means the
    /// default, 256.
    /// </summary>
    public int? MaxUpstreamRequests { get; init; }

    /// <summary>Ours: how long a request may wait in that queue before Gatehouse answers 503. Null means the default, 5 seconds.</summary>
    public TimeSpan? UpstreamQueueTimeout { get; init; }

    /// <summary>
    /// Ours (<c>auto_auth_token_allow_paths</c>): the Vault paths a request given the auto-auth token may reach, as
    /// Vault policy path patterns from the root namespace. Empty: every path not denied. Each listener may replace
    /// both lists (<see cref="ListenerConfig.AutoAuthTokenAllowPaths"/>).
    /// </summary>
    public IReadOnlyList<PathPatternConfig> AutoAuthTokenAllowPaths { get; init; } = [];

    /// <summary>Ours (<c>auto_auth_token_deny_paths</c>): the Vault paths a request given the auto-auth token may never reach; deny wins over allow.</summary>
    public IReadOnlyList<PathPatternConfig> AutoAuthTokenDenyPaths { get; init; } = [];

    public int EffectiveMaxUpstreamRequests => MaxUpstreamRequests ?? Defaults.MaxUpstreamRequests;

    public TimeSpan EffectiveUpstreamQueueTimeout => UpstreamQueueTimeout ?? Defaults.UpstreamQueueTimeout;

    /// <summary>
    /// True when there was no <c>api_proxy</c> block and this one was made from the legacy Agent keys in
    /// <c>cache</c> (use_auto_auth_token, enforce_consistency, when_inconsistent); messages then name <c>cache</c>.
    /// </summary>
    public bool FromCacheBlock { get; init; }

    public SourcePosition Position { get; init; }
}

/// <summary>One pattern of <c>auto_auth_token_allow_paths</c> or <c>auto_auth_token_deny_paths</c>, where it is written.</summary>
internal sealed record PathPatternConfig(string Pattern, SourcePosition Position);

/// <summary>The <c>cache</c> stanza. Its presence turns the lease cache on.</summary>
internal sealed record CacheConfig
{
    public PersistConfig? Persist { get; init; }

    /// <summary>Ours: <c>cache { shared "redis" { ... } }</c>, the store replicas share (null: none, nothing of it runs).</summary>
    public SharedConfig? Shared { get; init; }

    public bool CacheStaticSecrets { get; init; }

    public bool DisableCachingDynamicSecrets { get; init; }

    /// <summary>Vault 1.16+ (Enterprise): how often static-secret token capabilities are re-checked. The default is 5 minutes.</summary>
    public TimeSpan? StaticSecretTokenCapabilityRefreshInterval { get; init; }

    /// <summary>Vault 1.17+ (Enterprise): <c>pessimistic</c> (the default) or <c>optimistic</c>.</summary>
    public string? StaticSecretTokenCapabilityRefreshBehavior { get; init; }

    /// <summary>Ours: how often cached static secrets are revalidated against Vault (0 turns polling off). Null means the default.</summary>
    public TimeSpan? StaticSecretRefreshInterval { get; init; }

    /// <summary>Ours: the most entries the cache holds. Null means the default (see <see cref="Defaults"/>).</summary>
    public int? MaxEntries { get; init; }

    /// <summary>Ours: the most response bytes the cache holds. Null means the default.</summary>
    public long? MaxBytes { get; init; }

    public SourcePosition Position { get; init; }
}

/// <summary><c>cache { persist "kubernetes" { ... } }</c>; Gatehouse also accepts <c>persist "file"</c>.</summary>
internal sealed record PersistConfig
{
    public required string Type { get; init; }

    public string? Path { get; init; }

    public bool KeepAfterImport { get; init; }

    public bool ExitOnError { get; init; }

    public string? ServiceAccountTokenFile { get; init; }

    /// <summary>Ours: a file holding the 32-byte encryption key, base64. Required (or <see cref="KeyEnvVar"/>) for
    /// persist "file"; optional for "kubernetes", where it replaces the service-account token as the key input.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Ours: an environment variable holding the base64 key (as <see cref="KeyFile"/>; never both).</summary>
    public string? KeyEnvVar { get; init; }

    public SourcePosition Position { get; init; }
}

/// <summary>
/// Ours: <c>cache { shared "redis" { ... } }</c>, the Redis (or any Redis-protocol server) that Gatehouse replicas
/// share. Every value is as written; defaults are <see cref="Defaults"/>'s and the rules the validator's.
/// </summary>
internal sealed record SharedConfig
{
    /// <summary>The block's label; only <c>redis</c> is known.</summary>
    public required string Type { get; init; }

    /// <summary><c>host:port</c> (a host name, IPv4, or <c>[IPv6]</c>) or <c>unix:///path/to/socket</c>.</summary>
    public string? Address { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? PasswordFile { get; init; }

    /// <summary>Null means off, unless another tls_* key is set (then on).</summary>
    public bool? TlsEnable { get; init; }

    public string? TlsCaCert { get; init; }

    public string? TlsClientCert { get; init; }

    public string? TlsClientKey { get; init; }

    public string? TlsServerName { get; init; }

    public bool TlsSkipVerify { get; init; }

    /// <summary>Prefix of every Redis key Gatehouse writes. Null means <see cref="Defaults.SharedKeyPrefix"/>.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>A file holding the base64 key material (at least 32 bytes). Exactly one of this and <see cref="KeyEnvVar"/>.</summary>
    public string? KeyFile { get; init; }

    public string? KeyEnvVar { get; init; }

    public TimeSpan? ConnectTimeout { get; init; }

    public TimeSpan? OperationTimeout { get; init; }

    /// <summary>Where each key's value is written (for messages about one key).</summary>
    public ImmutableDictionary<string, SourcePosition> ValuePositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;

    public SourcePosition Position { get; init; }

    /// <summary>TLS is on when tls_enable says so, or when it is unset and a tls_* file or name is given.</summary>
    public bool TlsOn => TlsEnable ?? (!string.IsNullOrEmpty(TlsCaCert) || !string.IsNullOrEmpty(TlsClientCert) || !string.IsNullOrEmpty(TlsServerName));

    public string EffectiveKeyPrefix => KeyPrefix ?? Defaults.SharedKeyPrefix;

    public TimeSpan EffectiveConnectTimeout => ConnectTimeout ?? Defaults.SharedConnectTimeout;

    public TimeSpan EffectiveOperationTimeout => OperationTimeout ?? Defaults.SharedOperationTimeout;

    /// <summary>Where <paramref name="key"/>'s value is written, or the block.</summary>
    public SourcePosition PositionOf(string key) => ValuePositions.TryGetValue(key, out var position) ? position : Position;
}

internal enum ListenerType
{
    Tcp,
    Unix,
}

internal enum ListenerRole
{
    Default,
    MetricsOnly,
}

/// <summary><c>listener "tcp" { ... }</c> or <c>listener "unix" { ... }</c>.</summary>
internal sealed record ListenerConfig
{
    public required ListenerType Type { get; init; }

    /// <summary>host:port for tcp (the default is 127.0.0.1:8200), a socket path for unix.</summary>
    public string? Address { get; init; }

    public bool TlsDisable { get; init; }

    public string? TlsCertFile { get; init; }

    public string? TlsKeyFile { get; init; }

    /// <summary>tls10, tls11, tls12 or tls13. The default is tls12.</summary>
    public string? TlsMinVersion { get; init; }

    /// <summary>The default is tls13.</summary>
    public string? TlsMaxVersion { get; init; }

    public string? TlsCipherSuites { get; init; }

    public bool TlsRequireAndVerifyClientCert { get; init; }

    public string? TlsClientCaFile { get; init; }

    public bool TlsDisableClientCerts { get; init; }

    public ListenerRole Role { get; init; }

    public bool RequireRequestHeader { get; init; }

    /// <summary>From <c>proxy_api { enable_quit }</c> or <c>agent_api { enable_quit }</c>.</summary>
    public bool EnableQuit { get; init; }

    /// <summary>Unix sockets: the file mode, e.g. 0660 (octal as written).</summary>
    public int? SocketMode { get; init; }

    public string? SocketUser { get; init; }

    public string? SocketGroup { get; init; }

    /// <summary>max_request_size: the largest request body accepted, in bytes. The default is 32 MiB.</summary>
    public long? MaxRequestSize { get; init; }

    /// <summary>
    /// Ours: this listener's <c>auto_auth_token_allow_paths</c>. Null: not set. When this listener sets either list,
    /// its two lists replace <c>api_proxy</c>'s two (an unset one is then empty).
    /// </summary>
    public IReadOnlyList<PathPatternConfig>? AutoAuthTokenAllowPaths { get; init; }

    /// <summary>Ours: this listener's <c>auto_auth_token_deny_paths</c> (see <see cref="AutoAuthTokenAllowPaths"/>).</summary>
    public IReadOnlyList<PathPatternConfig>? AutoAuthTokenDenyPaths { get; init; }

    /// <summary>True when this listener sets its own auto-auth path lists.</summary>
    public bool HasOwnPathRules => AutoAuthTokenAllowPaths is not null || AutoAuthTokenDenyPaths is not null;

    public SourcePosition Position { get; init; }

    /// <summary>Where each key's value is written in the block, for rules checked after merging.</summary>
    public ImmutableDictionary<string, SourcePosition> ValuePositions { get; init; } = ImmutableDictionary<string, SourcePosition>.Empty;

    /// <summary>The place of <paramref name="key"/>'s value, or of the block when the key is not written.</summary>
    public SourcePosition PositionOf(string key) => ValuePositions.TryGetValue(key, out var position) ? position : Position;

    public string EffectiveAddress => Address ?? (Type == ListenerType.Tcp ? Defaults.ListenerAddress : "");

    /// <summary>"listener 0 (tcp 127.0.0.1:8200)", for messages.</summary>
    public string Describe(int index) => $"listener {index} ({(Type == ListenerType.Tcp ? "tcp" : "unix")} {EffectiveAddress})";

    public long EffectiveMaxRequestSize => MaxRequestSize is > 0 ? MaxRequestSize.Value : Defaults.MaxRequestSize;
}

/// <summary>The <c>telemetry</c> stanza.</summary>
internal sealed record TelemetryConfig
{
    /// <summary>The default is 24 hours when the stanza exists; with no stanza Prometheus output is off.</summary>
    public TimeSpan? PrometheusRetentionTime { get; init; }

    public bool DisableHostname { get; init; }

    public string? MetricsPrefix { get; init; }

    public string? StatsdAddress { get; init; }

    public string? StatsiteAddress { get; init; }

    public string? DogstatsdAddress { get; init; }

    /// <summary>Tags (<c>key:value</c> or <c>key</c>) added to every metric sent to <see cref="DogstatsdAddress"/>.</summary>
    public ImmutableArray<string> DogstatsdTags { get; init; } = [];

    /// <summary>Gatehouse only: the OTLP collector's base URL (<c>http://otel-collector:4318</c>); null: no OTLP export.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Gatehouse only: <c>http/protobuf</c> (the default) or <c>grpc</c>.</summary>
    public string? OtlpProtocol { get; init; }

    /// <summary>Gatehouse only: how often metrics are exported over OTLP. The default is 60 seconds.</summary>
    public TimeSpan? OtlpExportInterval { get; init; }

    /// <summary>Gatehouse only: a span per proxied request exported over OTLP, and W3C <c>traceparent</c> sent to Vault.</summary>
    public bool OtlpTraces { get; init; }

    /// <summary>True: the host name is a <c>host</c> label on every metric instead of a name segment of gauges.</summary>
    public bool EnableHostnameLabel { get; init; }

    /// <summary>go-metrics prefix rules as written: <c>+prefix</c> allows, <c>-prefix</c> blocks; the longest match wins.</summary>
    public ImmutableArray<string> PrefixFilter { get; init; } = [];

    /// <summary>Whether a metric no <see cref="PrefixFilter"/> rule matches is sent. The default is true.</summary>
    public bool? FilterDefault { get; init; }

    /// <summary>
    /// Every other telemetry key that was set (circonus_*, stackdriver_*, usage_gauge_period, ...),
    /// as written; lists are comma-joined. Accepted so real configs load; Gatehouse exports Prometheus only.
    /// </summary>
    public IReadOnlyDictionary<string, string> Other { get; init; } = new Dictionary<string, string>();

    public SourcePosition Position { get; init; }
}
