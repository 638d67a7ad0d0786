using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.GoCompat;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// The effective configuration as JSON, for <c>gatehouse validate</c>: snake_case keys as in Vault's files, defaults
/// filled in, durations in Go's notation ("5m0s"), and anything that could be a secret printed as "&lt;redacted&gt;".
/// File paths are not secrets and are printed.
/// </summary>
internal static class EffectiveConfigJson
{
    public const string Redacted = "<redacted>";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // Keys whose values are file paths even though their names sound secret.
    private static readonly HashSet<string> PathKeys = new(StringComparer.Ordinal)
    {
        "client_key", "client_cert", "ca_cert", "token_path", "keytab_path", "krb5conf_path",
    };

    private static readonly string[] SecretWords = ["token", "secret", "password", "passwd", "aad", "credential", "jwt", "private"];

    public static string Write(GatehouseConfig config) => ToJson(config).ToJsonString(Indented);

    public static JsonObject ToJson(GatehouseConfig config)
    {
        var root = new JsonObject
        {
            ["pid_file"] = config.PidFile ?? "",
            ["exit_after_auth"] = config.ExitAfterAuth,
            ["log_level"] = string.IsNullOrEmpty(config.LogLevel) ? Defaults.LogLevel : config.LogLevel,
            ["log_format"] = string.IsNullOrEmpty(config.LogFormat) ? Defaults.LogFormat : config.LogFormat,
            ["log_file"] = config.LogFile ?? "",
            ["log_rotate_bytes"] = config.LogRotateBytes ?? 0,
            ["log_rotate_duration"] = GoFormat.FormatDuration(config.LogRotateDuration ?? Defaults.LogRotateDuration),
            ["log_rotate_max_files"] = config.LogRotateMaxFiles ?? 0,
            ["disable_idle_connections"] = ClientSet(config.DisableIdleConnections),
            ["disable_keep_alives"] = ClientSet(config.DisableKeepAlives),
            ["vault"] = Vault(config.Vault),
        };
        if (config.AutoAuth is { } autoAuth)
            root["auto_auth"] = AutoAuth(autoAuth);
        if (config.ApiProxy is { } apiProxy)
        {
            root["api_proxy"] = new JsonObject
            {
                ["use_auto_auth_token"] = apiProxy.UseAutoAuthToken switch
                {
                    AutoAuthTokenMode.Force => JsonValue.Create("force"),
                    var m => JsonValue.Create(m == AutoAuthTokenMode.WhenMissing),
                },
                ["enforce_consistency"] = apiProxy.EnforceConsistency.ToString().ToLowerInvariant(),
                ["when_inconsistent"] = apiProxy.WhenInconsistent.ToString().ToLowerInvariant(),
                ["max_upstream_requests"] = apiProxy.EffectiveMaxUpstreamRequests,
                ["upstream_queue_timeout"] = GoFormat.FormatDuration(apiProxy.EffectiveUpstreamQueueTimeout),
                ["auto_auth_token_allow_paths"] = Patterns(apiProxy.AutoAuthTokenAllowPaths),
                ["auto_auth_token_deny_paths"] = Patterns(apiProxy.AutoAuthTokenDenyPaths),
            };
        }

        if (config.Cache is { } cache)
            root["cache"] = Cache(cache);
        root["listeners"] = new JsonArray([.. config.Listeners.Select(Listener)]);
        if (config.Telemetry is { } telemetry)
            root["telemetry"] = Telemetry(telemetry);
        root["source_files"] = new JsonArray([.. config.SourceFiles.Select(f => (JsonNode)f)]);
        return root;
    }

    private static JsonObject Vault(VaultConfig vault) => new()
    {
        ["address"] = vault.EffectiveAddress,
        ["ca_cert"] = vault.CaCert ?? "",
        ["ca_path"] = vault.CaPath ?? "",
        ["client_cert"] = vault.ClientCert ?? "",
        ["client_key"] = vault.ClientKey ?? "",
        ["tls_skip_verify"] = vault.TlsSkipVerify,
        ["tls_server_name"] = vault.TlsServerName ?? "",
        ["namespace"] = vault.Namespace ?? "",
        ["retry"] = new JsonObject
        {
            ["num_retries"] = vault.NumRetries == -1 ? -1 : vault.EffectiveNumRetries,
            ["unavailable_budget"] = GoFormat.FormatDuration(vault.EffectiveUnavailableRetryBudget),
        },
    };

    private static JsonObject AutoAuth(AutoAuthConfig autoAuth)
    {
        var m = autoAuth.Method;
        return new JsonObject
        {
            ["method"] = new JsonObject
            {
                ["type"] = m.Type,
                ["mount_path"] = m.EffectiveMountPath,
                ["namespace"] = m.Namespace ?? "",
                ["wrap_ttl"] = GoFormat.FormatDuration(m.WrapTtl ?? TimeSpan.Zero),
                ["min_backoff"] = GoFormat.FormatDuration(m.EffectiveMinBackoff),
                ["max_backoff"] = GoFormat.FormatDuration(m.EffectiveMaxBackoff),
                ["exit_on_err"] = m.ExitOnError,
                ["config"] = Map(m.Config),
            },
            ["sinks"] = new JsonArray([.. autoAuth.Sinks.Select(s => (JsonNode)new JsonObject
            {
                ["type"] = s.Type,
                ["wrap_ttl"] = GoFormat.FormatDuration(s.WrapTtl ?? TimeSpan.Zero),
                ["dh_type"] = s.DhType ?? "",
                ["dh_path"] = s.DhPath ?? "",
                ["derive_key"] = s.DeriveKey,
                ["aad"] = string.IsNullOrEmpty(s.Aad) ? "" : Redacted,
                ["aad_env_var"] = s.AadEnvVar ?? "",
                ["config"] = Map(s.Config),
            })]),
            ["enable_reauth_on_new_credentials"] = autoAuth.EnableReauthOnNewCredentials,
        };
    }

    private static JsonObject Cache(CacheConfig cache)
    {
        var json = new JsonObject
        {
            ["cache_static_secrets"] = cache.CacheStaticSecrets,
            ["disable_caching_dynamic_secrets"] = cache.DisableCachingDynamicSecrets,
            ["static_secret_token_capability_refresh_interval"] =
                GoFormat.FormatDuration(cache.StaticSecretTokenCapabilityRefreshInterval ?? Defaults.StaticSecretCapabilityRefreshInterval),
            ["static_secret_token_capability_refresh_behavior"] = cache.StaticSecretTokenCapabilityRefreshBehavior ?? "pessimistic",
            ["static_secret_refresh_interval"] =
                GoFormat.FormatDuration(cache.StaticSecretRefreshInterval ?? Defaults.StaticSecretRefreshInterval),
            ["max_entries"] = cache.MaxEntries ?? Defaults.CacheMaxEntries,
            ["max_bytes"] = cache.MaxBytes ?? Defaults.CacheMaxBytes,
        };
        if (cache.Persist is { } p)
        {
            json["persist"] = new JsonObject
            {
                ["type"] = p.Type,
                ["path"] = p.Path ?? "",
                ["keep_after_import"] = p.KeepAfterImport,
                ["exit_on_err"] = p.ExitOnError,
                ["service_account_token_file"] = p.ServiceAccountTokenFile ?? (p.Type == "kubernetes" ? Defaults.KubernetesTokenPath : ""),
                ["key_file"] = p.KeyFile ?? "",
                ["key_env_var"] = p.KeyEnvVar ?? "",
            };
        }

        if (cache.Shared is { } shared)
        {
            json["shared"] = Shared(shared);
        }

        return json;
    }

    /// <summary>The shared store as it will be used: defaults filled in; the password shown only as set or not, and the
    /// key only by where it is read from (the file's path or the variable's name), never its material.</summary>
    private static JsonObject Shared(SharedConfig shared) => new()
    {
        ["type"] = shared.Type,
        ["address"] = shared.Address ?? "",
        ["username"] = shared.Username ?? "",
        ["password"] = string.IsNullOrEmpty(shared.Password) ? "" : Redacted,
        ["password_file"] = shared.PasswordFile ?? "",
        ["tls_enable"] = shared.TlsOn,
        ["tls_ca_cert"] = shared.TlsCaCert ?? "",
        ["tls_client_cert"] = shared.TlsClientCert ?? "",
        ["tls_client_key"] = shared.TlsClientKey ?? "",
        ["tls_server_name"] = shared.TlsServerName ?? "",
        ["tls_skip_verify"] = shared.TlsSkipVerify,
        ["key_prefix"] = shared.EffectiveKeyPrefix,
        ["key_file"] = shared.KeyFile ?? "",
        ["key_env_var"] = shared.KeyEnvVar ?? "",
        ["connect_timeout"] = GoFormat.FormatDuration(shared.EffectiveConnectTimeout),
        ["operation_timeout"] = GoFormat.FormatDuration(shared.EffectiveOperationTimeout),
    };

    private static JsonNode Listener(ListenerConfig l)
    {
        var json = new JsonObject
        {
            ["type"] = l.Type == ListenerType.Tcp ? "tcp" : "unix",
            ["address"] = l.EffectiveAddress,
            ["tls_disable"] = l.TlsDisable,
        };
        if (!l.TlsDisable)
        {
            json["tls_cert_file"] = l.TlsCertFile ?? "";
            json["tls_key_file"] = l.TlsKeyFile ?? "";
            json["tls_min_version"] = l.TlsMinVersion ?? "tls12";
            json["tls_max_version"] = l.TlsMaxVersion ?? "tls13";
            json["tls_cipher_suites"] = l.TlsCipherSuites ?? "";
            json["tls_require_and_verify_client_cert"] = l.TlsRequireAndVerifyClientCert;
            json["tls_client_ca_file"] = l.TlsClientCaFile ?? "";
            json["tls_disable_client_certs"] = l.TlsDisableClientCerts;
        }

        json["role"] = l.Role == ListenerRole.MetricsOnly ? "metrics_only" : "default";
        json["require_request_header"] = l.RequireRequestHeader;
        json["proxy_api"] = new JsonObject { ["enable_quit"] = l.EnableQuit };
        if (l.HasOwnPathRules)
        {
            // Only when set: a listener without them uses api_proxy's, which the api_proxy object shows.
            json["auto_auth_token_allow_paths"] = Patterns(l.AutoAuthTokenAllowPaths ?? []);
            json["auto_auth_token_deny_paths"] = Patterns(l.AutoAuthTokenDenyPaths ?? []);
        }

        if (l.Type == ListenerType.Unix)
        {
            json["socket_mode"] = l.SocketMode is { } mode ? "0" + Convert.ToString(mode, 8) : "";
            json["socket_user"] = l.SocketUser ?? "";
            json["socket_group"] = l.SocketGroup ?? "";
        }

        return json;
    }

    private static JsonObject Telemetry(TelemetryConfig t)
    {
        var json = new JsonObject
        {
            ["prometheus_retention_time"] = GoFormat.FormatDuration(t.PrometheusRetentionTime ?? Defaults.PrometheusRetentionTime),
            ["disable_hostname"] = t.DisableHostname,
            ["metrics_prefix"] = t.MetricsPrefix ?? "",
            ["statsd_address"] = t.StatsdAddress ?? "",
            ["statsite_address"] = t.StatsiteAddress ?? "",
            ["dogstatsd_addr"] = t.DogstatsdAddress ?? "",
            ["dogstatsd_tags"] = new JsonArray([.. t.DogstatsdTags.Select(tag => (JsonNode?)JsonValue.Create(tag))]),
            ["enable_hostname_label"] = t.EnableHostnameLabel,
            ["prefix_filter"] = new JsonArray([.. t.PrefixFilter.Select(rule => (JsonNode?)JsonValue.Create(rule))]),
            ["filter_default"] = t.FilterDefault ?? true,
            ["otlp_endpoint"] = t.OtlpEndpoint ?? "",
            ["otlp_protocol"] = t.OtlpProtocol ?? "http/protobuf",
            ["otlp_traces"] = t.OtlpTraces,
            ["otlp_export_interval"] = GoFormat.FormatDuration(t.OtlpExportInterval ?? Defaults.OtlpExportInterval),
        };
        foreach (var (key, value) in t.Other)
            json[key] = IsSecretKey(key) ? Redacted : value;
        return json;
    }

    private static JsonArray Patterns(IReadOnlyList<PathPatternConfig> patterns) => new([.. patterns.Select(p => (JsonNode)p.Pattern)]);

    private static JsonArray ClientSet(UpstreamClientSet set)
    {
        // The JsonNode overload, not JsonArray.Add<T>(T): that one needs reflection a Native AOT build lacks.
        var names = new JsonArray();
        if (set.HasFlag(UpstreamClientSet.AutoAuth))
            names.Add((JsonNode)"auto-auth");
        if (set.HasFlag(UpstreamClientSet.Proxying))
            names.Add((JsonNode)"proxying");
        return names;
    }

    private static JsonObject Map(ConfigMap map)
    {
        var json = new JsonObject();
        foreach (var (key, node) in map.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            json[key] = IsSecretKey(key) || LooksLikeToken(node) ? Redacted : Value(node);
        return json;
    }

    private static JsonNode? Value(HclNode node) => node switch
    {
        HclString s => s.Value,
        HclNumber { Integer: { } i } => i,
        HclNumber n => n.Value,
        HclBool b => b.Value,
        HclList l => new JsonArray([.. l.Items.Select(Value)]),
        HclObject o => new JsonObject(o.Items.Select(i => KeyValuePair.Create(i.Name, Value(i.Value)))),
        _ => null,
    };

    /// <summary>Names that hold secrets (token, secret_id, password, access_key, aad, ...), except path-valued keys.</summary>
    public static bool IsSecretKey(string key)
    {
        var k = key.ToLowerInvariant();
        if (PathKeys.Contains(k) || k.EndsWith("_path", StringComparison.Ordinal) || k.EndsWith("_file", StringComparison.Ordinal)
            || k.EndsWith("_dir", StringComparison.Ordinal))
        {
            return false;
        }

        return SecretWords.Any(w => k.Contains(w, StringComparison.Ordinal)) || k == "key" || k.EndsWith("_key", StringComparison.Ordinal);
    }

    // Vault token prefixes: service (hvs., s.), batch (hvb., b.), recovery (hvr., r.).
    private static bool LooksLikeToken(HclNode node) =>
        node is HclString { Value: var v } && (v.StartsWith("hvs.", StringComparison.Ordinal) || v.StartsWith("hvb.", StringComparison.Ordinal)
            || v.StartsWith("s.", StringComparison.Ordinal) && v.Length > 20);
}
