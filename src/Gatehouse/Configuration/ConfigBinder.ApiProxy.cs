using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>The <c>api_proxy</c> and <c>cache</c> blocks (with Vault Agent's legacy proxy keys in <c>cache</c>) and <c>cache.persist</c>.</summary>
internal sealed partial class ConfigBinder
{
    /// <summary>The <c>api_proxy</c> keys whose place <see cref="GatehouseConfig.Origins"/> keeps, as <c>api_proxy.&lt;key&gt;</c>.</summary>
    private static readonly string[] ApiProxyOriginKeys = ["max_upstream_requests", "upstream_queue_timeout"];

    // Each enumeration is a table of its spellings and the value each means; absent or empty is the reader's default.

    private static readonly (string, EnforceConsistency)[] EnforceConsistencyChoices =
        [("never", EnforceConsistency.Never), ("always", EnforceConsistency.Always)];

    private static readonly (string, WhenInconsistent)[] WhenInconsistentChoices =
        [("fail", WhenInconsistent.Fail), ("retry", WhenInconsistent.Retry), ("forward", WhenInconsistent.Forward)];

    private static readonly (string, string?)[] RefreshBehaviorChoices =
        [("pessimistic", "pessimistic"), ("optimistic", "optimistic")];

    private ApiProxyConfig BindApiProxy(BlockEntry entry, ImmutableDictionary<string, SourcePosition>.Builder origins)
    {
        var r = Reader(entry.Body, "api_proxy");
        var proxy = BindProxyKeys(r, entry.Position, fromCache: false) with
        {
            MaxUpstreamRequests = r.Int("max_upstream_requests"),
            UpstreamQueueTimeout = r.Duration("upstream_queue_timeout"),
            AutoAuthTokenAllowPaths = PathPatterns(r, "auto_auth_token_allow_paths") ?? [],
            AutoAuthTokenDenyPaths = PathPatterns(r, "auto_auth_token_deny_paths") ?? [],
        };
        r.AddOrigins(ApiProxyOriginKeys, "api_proxy.", origins);

        if (r.Bool("prepend_configured_namespace") == true)
        {
            Error(r.Raw("prepend_configured_namespace")!.Position, r.Child("prepend_configured_namespace"),
                "not supported by Gatehouse yet (Vault 1.16 feature); remove it or set it to false");
        }

        r.Finish();
        return proxy;
    }

    /// <summary>
    /// <c>auto_auth_token_allow_paths</c> / <c>auto_auth_token_deny_paths</c> (api_proxy and listener): a list of Vault
    /// path patterns, or one pattern as a string (never split at commas: a Vault path may hold one). Null when absent.
    /// The patterns' rules are the validator's (<see cref="PathPatternRules"/>).
    /// </summary>
    private static IReadOnlyList<PathPatternConfig>? PathPatterns(BlockReader r, string key) =>
        r.StringList(key, splitCommas: false) is { } values ? [.. values.Select(v => new PathPatternConfig(v.Value, v.Position))] : null;

    /// <summary>use_auto_auth_token, enforce_consistency and when_inconsistent, in api_proxy or (legacy) cache.</summary>
    private ApiProxyConfig BindProxyKeys(BlockReader r, SourcePosition position, bool fromCache)
    {
        var stanza = fromCache ? "cache" : "api_proxy";
        var mode = AutoAuthTokenMode.Off;
        if (r.Raw("use_auto_auth_token") is { } raw)
        {
            if (raw is HclString { Value: var text } && text.Equals("force", StringComparison.OrdinalIgnoreCase))
                mode = AutoAuthTokenMode.Force;
            else if (raw is HclBool or HclString && ValueParser.TryBool(raw, out var on, out _))
                mode = on ? AutoAuthTokenMode.WhenMissing : AutoAuthTokenMode.Off;
            else
            {
                var shown = ValueParser.TryString(raw, out var t, out _) ? t : ValueParser.Describe(raw);
                Error(raw.Position, r.Child("use_auto_auth_token"),
                    $"value of 'use_auto_auth_token' can be either true/false/force, \"{shown}\" is an invalid option");
            }
        }

        var enforce = r.Choice("enforce_consistency", EnforceConsistency.Never, EnforceConsistencyChoices,
            other => $"Unknown {stanza} setting for enforce_consistency: \"{other}\"; use \"always\" or \"never\"");
        var when = r.Choice("when_inconsistent", WhenInconsistent.Fail, WhenInconsistentChoices,
            other => $"Unknown {stanza} setting for when_inconsistent: \"{other}\"; use \"fail\", \"retry\" or \"forward\"");

        return new ApiProxyConfig
        {
            UseAutoAuthToken = mode,
            EnforceConsistency = enforce,
            WhenInconsistent = when,
            FromCacheBlock = fromCache,
            Position = position,
        };
    }

    /// <summary>The legacy Agent keys found in <c>cache</c>: which were written, and their values.</summary>
    private sealed record LegacyCacheKeys(ApiProxyConfig Values, HclNode? UseAutoAuthToken, HclNode? EnforceConsistency, HclNode? WhenInconsistent)
    {
        public bool Any => UseAutoAuthToken is not null || EnforceConsistency is not null || WhenInconsistent is not null;
    }

    private CacheConfig BindCache(BlockEntry entry, out LegacyCacheKeys legacy)
    {
        var r = Reader(entry.Body, "cache");
        legacy = new LegacyCacheKeys(BindProxyKeys(r, entry.Position, fromCache: true),
            r.Raw("use_auto_auth_token"), r.Raw("enforce_consistency"), r.Raw("when_inconsistent"));

        var persistEntries = TypedBlocks(Blocks(r, "persist"));
        for (var i = 1; i < persistEntries.Count; i++)
            Error(persistEntries[i].Position, "cache", "only one \"persist\" block is required; remove the extra ones");
        var persist = persistEntries.Count > 0 ? BindPersist(persistEntries[0]) : null;

        var sharedEntries = TypedBlocks(Blocks(r, "shared"));
        for (var i = 1; i < sharedEntries.Count; i++)
            Error(sharedEntries[i].Position, "cache", "only one \"shared\" block is allowed; remove the extra ones");
        var shared = sharedEntries.Count > 0 ? BindShared(sharedEntries[0]) : null;

        var refreshBehavior = r.Choice("static_secret_token_capability_refresh_behavior", null, RefreshBehaviorChoices,
            other => $"invalid value \"{other}\"; use \"pessimistic\" or \"optimistic\"");

        var cache = new CacheConfig
        {
            Persist = persist,
            Shared = shared,
            CacheStaticSecrets = r.Bool("cache_static_secrets") ?? false,
            DisableCachingDynamicSecrets = r.Bool("disable_caching_dynamic_secrets") ?? false,
            StaticSecretTokenCapabilityRefreshInterval = r.Duration("static_secret_token_capability_refresh_interval"),
            StaticSecretTokenCapabilityRefreshBehavior = refreshBehavior,
            StaticSecretRefreshInterval = r.Duration("static_secret_refresh_interval"),
            MaxEntries = r.Int("max_entries"),
            MaxBytes = r.Long("max_bytes"),
            Position = entry.Position,
        };
        r.Finish();
        return cache;
    }

    /// <summary>
    /// Vault Agent's legacy rules: with no api_proxy block, the cache keys make one; with both, a key set in both is an
    /// error. Unlike Vault (which copies only the force bit), a key set only in cache is honoured in full.
    /// </summary>
    private ApiProxyConfig? ApplyLegacyCacheKeys(ApiProxyConfig? apiProxy, LegacyCacheKeys legacy, BlockEntry? apiProxyEntry)
    {
        if (!legacy.Any)
            return apiProxy;
        if (apiProxy is null || apiProxyEntry is null)
            return legacy.Values;

        var r = new BlockReader(apiProxyEntry.Body, "api_proxy", []);
        if (legacy.UseAutoAuthToken is not null && r.Has("use_auto_auth_token"))
        {
            Error(legacy.UseAutoAuthToken.Position, "cache.use_auto_auth_token",
                "use_auto_auth_token defined in both api_proxy and cache config. Please remove this configuration from the cache block");
        }

        if (legacy.EnforceConsistency is not null && r.Has("enforce_consistency"))
        {
            Error(legacy.EnforceConsistency.Position, "cache.enforce_consistency",
                "enforce_consistency configured in both api_proxy and cache blocks. Please remove this configuration from the cache block.");
        }

        if (legacy.WhenInconsistent is not null && r.Has("when_inconsistent"))
        {
            Error(legacy.WhenInconsistent.Position, "cache.when_inconsistent",
                "when_inconsistent configured in both api_proxy and cache blocks. Please remove this configuration from the cache block.");
        }

        return apiProxy with
        {
            UseAutoAuthToken = r.Has("use_auto_auth_token") ? apiProxy.UseAutoAuthToken : legacy.Values.UseAutoAuthToken,
            EnforceConsistency = r.Has("enforce_consistency") ? apiProxy.EnforceConsistency : legacy.Values.EnforceConsistency,
            WhenInconsistent = r.Has("when_inconsistent") ? apiProxy.WhenInconsistent : legacy.Values.WhenInconsistent,
        };
    }

    private PersistConfig? BindPersist(BlockEntry entry)
    {
        var pr = TypedReader(entry, "cache.persist", out var type, out var path);
        var persist = new PersistConfig
        {
            Type = type ?? "",
            Path = pr.String("path"),
            KeepAfterImport = pr.Bool("keep_after_import") ?? false,
            ExitOnError = pr.Bool("exit_on_err") ?? false,
            ServiceAccountTokenFile = pr.String("service_account_token_file"),
            KeyFile = pr.String("key_file"),
            KeyEnvVar = pr.String("key_env_var"),
            Position = entry.Position,
        };
        pr.Finish();
        if (type is null)
        {
            Error(entry.Position, path, "persist type must be specified; write persist \"kubernetes\" { ... } or persist \"file\" { ... }");
            return null;
        }

        // The key is read from the environment at start-up; the environment is known now (as for aad_env_var).
        if (persist.KeyEnvVar is { Length: > 0 } keyVariable && pr.PositionOf("key_env_var") is { } keyAt)
        {
            var what = $"the environment variable {keyVariable} (key_env_var)";
            if (_environment(keyVariable) is not { } keyText || string.IsNullOrWhiteSpace(keyText))
                Error(keyAt, pr.Child("key_env_var"), $"{what} is not set or empty; set it to a base64-encoded 32-byte key");
            else if (PersistKeyText.Problem(keyText) is { } problem)
                Error(keyAt, pr.Child("key_env_var"), $"{what} {problem}");
        }

        return persist;
    }

    /// <summary>
    /// <c>cache { shared "redis" { ... } }</c> (ours). The key material named by <c>key_env_var</c> is checked now,
    /// as persist's is: the environment is known when the configuration is loaded.
    /// </summary>
    private SharedConfig? BindShared(BlockEntry entry)
    {
        var sr = TypedReader(entry, "cache.shared", out var type, out var path);
        var shared = new SharedConfig
        {
            Type = type ?? "",
            Address = sr.String("address"),
            Username = sr.String("username"),
            Password = sr.String("password"),
            PasswordFile = sr.String("password_file"),
            TlsEnable = sr.Bool("tls_enable"),
            TlsCaCert = sr.String("tls_ca_cert"),
            TlsClientCert = sr.String("tls_client_cert"),
            TlsClientKey = sr.String("tls_client_key"),
            TlsServerName = sr.String("tls_server_name"),
            TlsSkipVerify = sr.Bool("tls_skip_verify") ?? false,
            KeyPrefix = sr.String("key_prefix"),
            KeyFile = sr.String("key_file"),
            KeyEnvVar = sr.String("key_env_var"),
            ConnectTimeout = sr.Duration("connect_timeout"),
            OperationTimeout = sr.Duration("operation_timeout"),
            ValuePositions = sr.ValuePositions(),
            Position = entry.Position,
        };
        sr.Finish();
        if (type is null)
        {
            Error(entry.Position, path, "shared type must be specified; write shared \"redis\" { ... }");
            return null;
        }

        if (shared.KeyEnvVar is { Length: > 0 } keyVariable && sr.PositionOf("key_env_var") is { } keyAt)
        {
            var what = $"the environment variable {keyVariable} (key_env_var)";
            if (_environment(keyVariable) is not { } keyText || string.IsNullOrWhiteSpace(keyText))
                Error(keyAt, sr.Child("key_env_var"), $"{what} is not set or empty; {SharedKeyText.HowToMakeOne}");
            else if (SharedKeyText.Problem(keyText) is { } problem)
                Error(keyAt, sr.Child("key_env_var"), $"{what} {problem}");
        }

        return shared;
    }
}
