using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// Binds one parsed file (HCL or its JSON form) to a <see cref="GatehouseConfig"/>, with Vault's types and shapes.
/// HCL1 lets a labelled block be written several ways, and all of them mean the same:
/// <c>listener "tcp" {}</c>, <c>listener { type = "tcp" }</c>, <c>listener = [{ ... }]</c>, JSON
/// <c>{"listener": {"tcp": {...}}}</c>, <c>{"listener": [{"tcp": {...}}]}</c> and <c>{"listener": [{"type": "tcp"}]}</c>;
/// the same holds for <c>method</c>, <c>sink</c> and <c>persist</c>. Problems are collected, never thrown: binding
/// goes on past each one so that a user sees every problem in one run. Rules that span blocks are the
/// <see cref="ConfigValidator"/>'s, run once after merging.
/// </summary>
internal sealed class ConfigBinder
{
    /// <summary>Auth methods Gatehouse implements.</summary>
    public static readonly ImmutableArray<string> SupportedMethods = ["approle", "cert", "jwt", "kubernetes", "token_file"];

    /// <summary>Auth methods Vault Agent/Proxy know that Gatehouse does not implement (yet).</summary>
    public static readonly ImmutableArray<string> UnsupportedMethods =
        ["alicloud", "aws", "azure", "cf", "gcp", "kerberos", "ldap", "oci", "pcf"];

    private const string TemplatingRefused = "not supported by Gatehouse (Vault Agent templating); " +
        "Gatehouse is a Vault Proxy replacement: render templates with Vault Agent or consul-template";

    /// <summary>The top-level keys whose place <see cref="GatehouseConfig.Origins"/> keeps (they merge and are overridden).</summary>
    private static readonly string[] TopLevelOriginKeys =
        ["pid_file", "log_level", "log_format", "log_file", "log_rotate_bytes", "log_rotate_duration", "log_rotate_max_files"];

    /// <summary>The <c>api_proxy</c> keys whose place <see cref="GatehouseConfig.Origins"/> keeps, as <c>api_proxy.&lt;key&gt;</c>.</summary>
    private static readonly string[] ApiProxyOriginKeys = ["max_upstream_requests", "upstream_queue_timeout"];

    /// <summary>The <c>vault</c> keys whose place <see cref="GatehouseConfig.Origins"/> keeps, as <c>vault.&lt;key&gt;</c>.</summary>
    private static readonly string[] VaultOriginKeys =
        ["address", "ca_cert", "ca_path", "client_cert", "client_key", "tls_skip_verify", "tls_server_name", "namespace"];

    private readonly Func<string, string?> _environment;
    private readonly ICollection<ConfigDiagnostic> _diagnostics;
    private readonly ICollection<KnownKey>? _knownKeys;

    private ConfigBinder(Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics, ICollection<KnownKey>? knownKeys = null)
    {
        _environment = environment;
        _diagnostics = diagnostics;
        _knownKeys = knownKeys;
    }

    /// <summary>
    /// Binds one file. <paramref name="environment"/> is read only for sink <c>aad_env_var</c>, which Vault resolves
    /// when the config is loaded, and to check the key a persist block's <c>key_env_var</c> names.
    /// </summary>
    public static BoundConfigFile Bind(
        HclObject root, string fileName, Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics) =>
        new ConfigBinder(environment, diagnostics).BindRoot(root, fileName);

    /// <summary>
    /// Every key the binder knows in the blocks <paramref name="root"/> contains (a block it does not contain is not
    /// visited), then every method and file-sink <c>config</c> key from <see cref="MethodConfigRules"/>. Problems in
    /// <paramref name="root"/> are not reported: this is for holding the configuration reference to the code.
    /// </summary>
    public static IReadOnlyList<KnownKey> KnownKeys(HclObject root)
    {
        var keys = new List<KnownKey>();
        new ConfigBinder(_ => null, new List<ConfigDiagnostic>(), keys).BindRoot(root, "known-keys");
        keys.AddRange(MethodConfigRules.KnownKeys);
        return keys;
    }

    private BlockReader Reader(HclObject body, string path) => new(body, path, _diagnostics, _knownKeys);

    private void Error(SourcePosition position, string path, string message) =>
        _diagnostics.Add(new ConfigDiagnostic(position, path, message));

    private BoundConfigFile BindRoot(HclObject root, string fileName)
    {
        var r = Reader(root, "");

        var vaultBlocks = Blocks(r, "vault");
        var autoAuthBlocks = Blocks(r, "auto_auth");
        var apiProxyBlocks = Blocks(r, "api_proxy");
        var cacheBlocks = Blocks(r, "cache");
        var telemetryBlocks = Blocks(r, "telemetry");
        OnlyOne(vaultBlocks, "vault", "one and only one \"vault\" block is required");
        OnlyOne(autoAuthBlocks, "auto_auth", "at most one \"auto_auth\" block is allowed");
        OnlyOne(apiProxyBlocks, "api_proxy", "one and only one \"api_proxy\" block is required");
        OnlyOne(cacheBlocks, "cache", "one and only one \"cache\" block is required");
        OnlyOne(telemetryBlocks, "telemetry", "one and only one \"telemetry\" block is required");

        var listeners = new List<ListenerConfig>();
        var listenerEntries = TypedBlocks(Blocks(r, "listener"), "proxy_api", "agent_api", "telemetry", "custom_response_headers");
        for (var i = 0; i < listenerEntries.Count; i++)
        {
            listeners.Add(BindListener(listenerEntries[i], i));
        }

        CacheConfig? cache = null;
        LegacyCacheKeys? legacy = null;
        if (cacheBlocks.Count > 0)
            cache = BindCache(cacheBlocks[0], out legacy);
        var origins = ImmutableDictionary.CreateBuilder<string, SourcePosition>(StringComparer.Ordinal);
        var apiProxy = apiProxyBlocks.Count > 0 ? BindApiProxy(apiProxyBlocks[0], origins) : null;
        if (legacy is not null)
            apiProxy = ApplyLegacyCacheKeys(apiProxy, legacy, apiProxyBlocks.Count > 0 ? apiProxyBlocks[0] : null);

        foreach (var key in TopLevelOriginKeys)
        {
            if (r.PositionOf(key) is { } position)
                origins[key] = position;
        }

        var config = new GatehouseConfig
        {
            Vault = vaultBlocks.Count > 0 ? BindVault(vaultBlocks[0], origins) : new VaultConfig(),
            AutoAuth = autoAuthBlocks.Count > 0 ? BindAutoAuth(autoAuthBlocks[0]) : null,
            ApiProxy = apiProxy,
            Cache = cache,
            Listeners = listeners,
            Telemetry = telemetryBlocks.Count > 0 ? BindTelemetry(telemetryBlocks[0]) : null,
            PidFile = r.String("pid_file"),
            ExitAfterAuth = r.Bool("exit_after_auth") ?? false,
            LogLevel = r.String("log_level"),
            LogFormat = r.String("log_format"),
            LogFile = r.String("log_file"),
            LogRotateBytes = r.Long("log_rotate_bytes"),
            LogRotateDuration = r.Duration("log_rotate_duration"),
            LogRotateMaxFiles = r.Int("log_rotate_max_files"),
            DisableIdleConnections = BindClientSet(r, "disable_idle_connections"),
            DisableKeepAlives = BindClientSet(r, "disable_keep_alives"),
            SourceFiles = [fileName],
        };
        config = config with { Origins = origins.ToImmutable() };

        // Server-only shared keys that appear in copied configs and mean nothing to an agent or proxy.
        r.Ignore("disable_mlock");
        r.Refuse(TemplatingRefused, "template", "template_config", "exec", "env_template");
        r.Finish();
        return new BoundConfigFile(config, vaultBlocks.Count > 0);
    }

    // ---- shapes -------------------------------------------------------------------------------------------

    /// <summary>A block body with the labels it was written with (after the block name).</summary>
    private sealed record BlockEntry(IReadOnlyList<HclKey> Labels, HclObject Body, SourcePosition Position, string Name);

    /// <summary>Every body written for <paramref name="key"/>: <c>key { }</c>, <c>key = { }</c>, <c>key = [{ }, { }]</c>.</summary>
    private List<BlockEntry> Blocks(BlockReader r, string key)
    {
        var entries = new List<BlockEntry>();
        foreach (var item in r.Items(key))
            AddBodies(entries, item.Keys.Skip(1).ToList(), item.Value, r.Child(key), key, item.Keys[0].Position);
        return entries;
    }

    /// <summary>Adds each body of <paramref name="value"/>; an entry is placed at its block name (or list element).</summary>
    private void AddBodies(
        List<BlockEntry> entries, IReadOnlyList<HclKey> labels, HclNode value, string path, string name, SourcePosition position)
    {
        switch (value)
        {
            case HclObject body:
                entries.Add(new BlockEntry(labels, body, position, name));
                break;
            case HclList list:
                foreach (var element in list.Items)
                    AddBodies(entries, labels, element, path, name, element.Position);
                break;
            default:
                Error(value.Position, path, $"expected a block, got {ValueParser.Describe(value)}");
                break;
        }
    }

    /// <summary>
    /// For typed blocks: a body with no labels and no <c>type</c> key whose items are all blocks is the JSON form
    /// <c>{"listener": {"tcp": {...}}}</c>; each item is then a labelled block. A body holding one of the block's own
    /// nested blocks (<paramref name="nestedBlocks"/>, e.g. <c>config</c>) is a body with a missing type instead.
    /// </summary>
    private List<BlockEntry> TypedBlocks(List<BlockEntry> entries, params string[] nestedBlocks)
    {
        var result = new List<BlockEntry>();
        foreach (var entry in entries)
        {
            var body = entry.Body;
            var isLabelMap = entry.Labels.Count == 0 && body.Items.Count > 0
                && !body.Items.Any(i => i.Name == "type" || nestedBlocks.Contains(i.Name))
                && body.Items.All(i => i.Value is HclObject || (i.Value is HclList l && l.Items.All(e => e is HclObject)));
            if (!isLabelMap)
            {
                result.Add(entry);
                continue;
            }

            foreach (var item in body.Items)
                AddBodies(result, item.Keys, item.Value, entry.Name, entry.Name, item.Keys[0].Position);
        }

        return result;
    }

    /// <summary>The type from a <c>type</c> key or else the single label; null (reported) when neither is there.</summary>
    private static string? TypeOf(BlockEntry entry, BlockReader r)
    {
        var typeKey = r.String("type");
        if (!string.IsNullOrEmpty(typeKey))
            return typeKey;
        return entry.Labels.Count == 1 ? entry.Labels[0].Name : null;
    }

    private void OnlyOne(List<BlockEntry> blocks, string path, string message)
    {
        for (var i = 1; i < blocks.Count; i++)
            Error(blocks[i].Position, path, $"{message}; merge the {blocks.Count} blocks into one");
    }

    private static string Quoted(string name, string type) => $"{name} \"{type}\"";

    // ---- vault ----------------------------------------------------------------------------------------------

    private VaultConfig BindVault(BlockEntry entry, ImmutableDictionary<string, SourcePosition>.Builder origins)
    {
        var r = Reader(entry.Body, "vault");
        int? numRetries = null;
        TimeSpan? unavailableBudget = null;
        var retryBlocks = Blocks(r, "retry");
        OnlyOne(retryBlocks, "vault.retry", "one and only one \"retry\" block is required");
        if (retryBlocks.Count > 0)
        {
            var retry = Reader(retryBlocks[0].Body, "vault.retry");
            numRetries = retry.Int("num_retries");
            unavailableBudget = retry.Duration("unavailable_budget");
            foreach (var key in (string[])["num_retries", "unavailable_budget"])
            {
                if (retry.PositionOf(key) is { } position)
                    origins[$"vault.retry.{key}"] = position;
            }

            retry.Finish();
        }

        foreach (var key in VaultOriginKeys)
        {
            if (r.PositionOf(key) is { } position)
                origins[$"vault.{key}"] = position;
        }

        var vault = new VaultConfig
        {
            Address = r.String("address"),
            CaCert = r.String("ca_cert"),
            CaPath = r.String("ca_path"),
            ClientCert = r.String("client_cert"),
            ClientKey = r.String("client_key"),
            TlsSkipVerify = r.Bool("tls_skip_verify") ?? false,
            TlsServerName = r.String("tls_server_name"),
            Namespace = r.String("namespace"),
            NumRetries = numRetries,
            UnavailableRetryBudget = unavailableBudget,
        };
        r.Finish();
        return vault;
    }

    // ---- auto_auth ------------------------------------------------------------------------------------------

    private AutoAuthConfig BindAutoAuth(BlockEntry entry)
    {
        var r = Reader(entry.Body, "auto_auth");
        var methods = TypedBlocks(Blocks(r, "method"), "config");
        AuthMethodConfig method;
        if (methods.Count != 1)
        {
            var where = methods.Count == 0 ? entry.Position : methods[1].Position;
            Error(where, "auto_auth", methods.Count == 0
                ? "one and only one \"method\" block is required; add method \"approle\" { ... } (or another method)"
                : $"one and only one \"method\" block is required; found {methods.Count}");
        }

        // A placeholder keeps auto_auth present when its method is missing or bad, so that the validator does not add
        // misleading follow-on errors ("auto_auth not configured"). A config with errors is never handed out.
        method = methods.Count > 0 ? BindMethod(methods[0]) : new AuthMethodConfig { Type = "", Position = entry.Position };

        var sinkEntries = Blocks(r, "sink");
        foreach (var sinksBlock in Blocks(r, "sinks"))
        {
            var sr = Reader(sinksBlock.Body, "auto_auth.sinks");
            sinkEntries.AddRange(Blocks(sr, "sink"));
            sr.Finish();
        }

        var sinks = new List<SinkConfig>();
        foreach (var sinkEntry in TypedBlocks(sinkEntries, "config"))
        {
            sinks.Add(BindSink(sinkEntry));
        }

        var reauth = r.Bool("enable_reauth_on_new_credentials") ?? false;
        r.Finish();
        return new AutoAuthConfig
        {
            Method = method,
            Sinks = sinks,
            EnableReauthOnNewCredentials = reauth,
            Position = entry.Position,
        };
    }

    /// <summary>Binds a method; one with a missing or unknown type is reported and still returned (see BindAutoAuth).</summary>
    private AuthMethodConfig BindMethod(BlockEntry entry)
    {
        var r = Reader(entry.Body, "auto_auth.method");
        var type = TypeOf(entry, r)?.ToLowerInvariant();
        var path = type is null ? "auto_auth.method" : Quoted("auto_auth.method", type);
        var mr = Reader(entry.Body, path);
        mr.Ignore("type");
        var method = new AuthMethodConfig
        {
            Type = type ?? "",
            MountPath = mr.String("mount_path"),
            Namespace = mr.String("namespace"),
            WrapTtl = mr.Duration("wrap_ttl"),
            MinBackoff = mr.Duration("min_backoff"),
            MaxBackoff = mr.Duration("max_backoff"),
            ExitOnError = mr.Bool("exit_on_err") ?? false,
            Config = BindConfigMap(mr, entry),
            Position = entry.Position,
        };
        mr.Finish();

        if (type is null)
        {
            Error(entry.Position, path, "method type must be specified; write method \"approle\" { ... } or type = \"approle\"");
            return method;
        }

        if (UnsupportedMethods.Contains(type))
        {
            Error(entry.Position, path,
                $"auth method \"{type}\" is not supported by Gatehouse yet; supported methods: {string.Join(", ", SupportedMethods)}");
            return method;
        }

        if (!SupportedMethods.Contains(type))
        {
            var suggestion = BlockReader.Suggest(type, SupportedMethods);
            Error(entry.Position, path, $"unknown auth method \"{type}\"; " + (suggestion is not null
                ? $"did you mean {suggestion}?"
                : $"use one of {string.Join(", ", SupportedMethods)}"));
            return method;
        }

        MethodConfigRules.Check(method, path, _diagnostics);
        return method;
    }

    private SinkConfig BindSink(BlockEntry entry)
    {
        var r = Reader(entry.Body, "auto_auth.sink");
        var type = TypeOf(entry, r);
        var path = type is null ? "auto_auth.sink" : Quoted("auto_auth.sink", type);
        var sr = Reader(entry.Body, path);
        sr.Ignore("type");
        var aadEnvVar = sr.String("aad_env_var");
        var aad = sr.String("aad");
        if (!string.IsNullOrEmpty(aadEnvVar))
            aad = _environment(aadEnvVar) ?? "";
        var sink = new SinkConfig
        {
            Type = type ?? "",
            WrapTtl = sr.Duration("wrap_ttl"),
            DhType = sr.String("dh_type"),
            DhPath = sr.String("dh_path"),
            DeriveKey = sr.Bool("derive_key") ?? false,
            Aad = aad,
            AadEnvVar = aadEnvVar,
            Config = BindConfigMap(sr, entry),
            Position = entry.Position,
        };
        sr.Finish();

        if (type is null)
        {
            Error(entry.Position, path, "sink type must be specified; write sink \"file\" { ... }");
            return sink;
        }

        if (type != "file")
        {
            Error(entry.Position, path, $"Unknown sink type \"{type}\"; the only sink type is \"file\"");
            return sink;
        }

        MethodConfigRules.CheckFileSink(sink, path, _diagnostics);
        return sink;
    }

    /// <summary><c>config { }</c>, <c>config = { }</c> or JSON <c>"config": [{ }]</c>: one map of free-form keys.</summary>
    private ConfigMap BindConfigMap(BlockReader r, BlockEntry owner)
    {
        var blocks = Blocks(r, "config");
        if (blocks.Count == 0)
            return new ConfigMap(ImmutableDictionary<string, HclNode>.Empty, owner.Position);
        for (var i = 1; i < blocks.Count; i++)
            Error(blocks[i].Position, r.Child("config"), "only one \"config\" block is allowed; merge them into one");
        var values = ImmutableDictionary.CreateBuilder<string, HclNode>(StringComparer.Ordinal);
        var keyPositions = ImmutableDictionary.CreateBuilder<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var item in blocks[0].Body.Items)
        {
            values[item.Name] = item.Keys.Count > 1 ? new HclObject([item], item.Position) : item.Value;
            keyPositions[item.Name] = item.Keys[0].Position;
        }

        return new ConfigMap(values.ToImmutable(), blocks[0].Body.Position, keyPositions.ToImmutable());
    }

    // ---- api_proxy and cache ----------------------------------------------------------------------------------

    private ApiProxyConfig BindApiProxy(BlockEntry entry, ImmutableDictionary<string, SourcePosition>.Builder origins)
    {
        var r = Reader(entry.Body, "api_proxy");
        var proxy = BindProxyKeys(r, entry.Position, fromCache: false) with
        {
            MaxUpstreamRequests = r.Int("max_upstream_requests"),
            UpstreamQueueTimeout = r.Duration("upstream_queue_timeout"),
        };
        foreach (var key in ApiProxyOriginKeys)
        {
            if (r.PositionOf(key) is { } position)
                origins[$"api_proxy.{key}"] = position;
        }

        if (r.Bool("prepend_configured_namespace") == true)
        {
            Error(r.Raw("prepend_configured_namespace")!.Position, r.Child("prepend_configured_namespace"),
                "not supported by Gatehouse yet (Vault 1.16 feature); remove it or set it to false");
        }

        r.Finish();
        return proxy;
    }

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

        var enforce = EnforceConsistency.Never;
        switch (r.String("enforce_consistency"))
        {
            case null or "" or "never":
                break;
            case "always":
                enforce = EnforceConsistency.Always;
                break;
            case var other:
                Error(r.Raw("enforce_consistency")!.Position, r.Child("enforce_consistency"),
                    $"Unknown {stanza} setting for enforce_consistency: \"{other}\"; use \"always\" or \"never\"");
                break;
        }

        var when = WhenInconsistent.Fail;
        switch (r.String("when_inconsistent"))
        {
            case null or "" or "fail":
                break;
            case "retry":
                when = WhenInconsistent.Retry;
                break;
            case "forward":
                when = WhenInconsistent.Forward;
                break;
            case var other:
                Error(r.Raw("when_inconsistent")!.Position, r.Child("when_inconsistent"),
                    $"Unknown {stanza} setting for when_inconsistent: \"{other}\"; use \"fail\", \"retry\" or \"forward\"");
                break;
        }

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

        var refreshBehavior = r.String("static_secret_token_capability_refresh_behavior");
        if (refreshBehavior is not (null or "" or "pessimistic" or "optimistic"))
        {
            Error(r.Raw("static_secret_token_capability_refresh_behavior")!.Position, r.Child("static_secret_token_capability_refresh_behavior"),
                $"invalid value \"{refreshBehavior}\"; use \"pessimistic\" or \"optimistic\"");
        }

        var cache = new CacheConfig
        {
            Persist = persist,
            CacheStaticSecrets = r.Bool("cache_static_secrets") ?? false,
            DisableCachingDynamicSecrets = r.Bool("disable_caching_dynamic_secrets") ?? false,
            StaticSecretTokenCapabilityRefreshInterval = r.Duration("static_secret_token_capability_refresh_interval"),
            StaticSecretTokenCapabilityRefreshBehavior = string.IsNullOrEmpty(refreshBehavior) ? null : refreshBehavior,
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
        var r = Reader(entry.Body, "cache.persist");
        var type = TypeOf(entry, r);
        var path = type is null ? "cache.persist" : Quoted("cache.persist", type);
        var pr = Reader(entry.Body, path);
        pr.Ignore("type");
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

    // ---- listener -----------------------------------------------------------------------------------------------

    private ListenerConfig BindListener(BlockEntry entry, int index)
    {
        var r = Reader(entry.Body, "listener");
        var typeText = TypeOf(entry, r);
        var path = typeText is null ? "listener" : Quoted("listener", typeText);
        var lr = Reader(entry.Body, path);
        lr.Ignore("type");

        var enableQuit = false;
        foreach (var apiBlockName in new[] { "proxy_api", "agent_api" })
        {
            foreach (var api in Blocks(lr, apiBlockName))
            {
                var ar = Reader(api.Body, lr.Child(apiBlockName));
                enableQuit |= ar.Bool("enable_quit") ?? false;
                ar.Finish();
            }
        }

        var roleText = lr.String("role");
        var role = ListenerRole.Default;
        switch (roleText)
        {
            case null or "" or "default":
                break;
            case "metrics_only":
                role = ListenerRole.MetricsOnly;
                break;
            default:
                Error(lr.Raw("role")!.Position, lr.Child("role"),
                    $"unsupported listener role \"{roleText}\"; use \"default\" or \"metrics_only\"");
                break;
        }

        var requireHeader = false;
        if (lr.Raw("require_request_header") is { } rawHeader)
        {
            if (ValueParser.TryBool(rawHeader, out var on, out var error))
                requireHeader = on;
            else
                Error(rawHeader.Position, lr.Child("require_request_header"), $"invalid value for require_request_header: {error}");
        }

        var listener = new ListenerConfig
        {
            Type = ListenerType.Tcp,
            Address = lr.String("address"),
            // An unreadable tls_disable is reported once; reading it as "off" avoids follow-on certificate errors.
            TlsDisable = lr.Bool("tls_disable") ?? lr.Has("tls_disable"),
            TlsCertFile = lr.String("tls_cert_file"),
            TlsKeyFile = lr.String("tls_key_file"),
            TlsMinVersion = TlsVersion(lr, "tls_min_version"),
            TlsMaxVersion = TlsVersion(lr, "tls_max_version"),
            TlsCipherSuites = lr.String("tls_cipher_suites"),
            TlsRequireAndVerifyClientCert = lr.Bool("tls_require_and_verify_client_cert") ?? false,
            TlsClientCaFile = lr.String("tls_client_ca_file"),
            TlsDisableClientCerts = lr.Bool("tls_disable_client_certs") ?? false,
            Role = role,
            RequireRequestHeader = requireHeader,
            EnableQuit = enableQuit,
            SocketMode = lr.FileMode("socket_mode"),
            SocketUser = lr.String("socket_user"),
            SocketGroup = lr.String("socket_group"),
            MaxRequestSize = lr.Long("max_request_size"),
            Position = entry.Position,
            ValuePositions = lr.ValuePositions(),
        };

        // Keys a Vault server listener takes that Vault Agent/Proxy parse and then ignore or prune.
        lr.Ignore("telemetry", "http_read_header_timeout", "http_read_timeout", "http_write_timeout", "http_idle_timeout",
            "max_request_duration", "custom_response_headers", "proxy_protocol_behavior",
            "proxy_protocol_authorized_addrs", "x_forwarded_for_authorized_addrs", "x_forwarded_for_hop_skips",
            "x_forwarded_for_reject_not_authorized", "x_forwarded_for_reject_not_present",
            "x_forwarded_for_client_cert_header", "x_forwarded_for_client_cert_header_decoders",
            "tls_prefer_server_cipher_suites", "cluster_address", "purpose", "profiling", "inflight_requests_logging",
            "cors", "unauthenticated_metrics_access", "disable_replication_status_endpoints", "redact_addresses",
            "redact_cluster_name", "redact_version", "chroot_namespace", "disable_request_limiter");
        lr.Refuse("not supported by Gatehouse yet; configure the certificate with tls_cert_file and tls_key_file",
            "tls_acme_ca_directory", "tls_acme_domains", "tls_acme_email", "tls_acme_cache_path", "tls_acme_key_type",
            "tls_acme_eab_key_id", "tls_acme_eab_mac_key", "tls_acme_testing_ca_root", "tls_auto_reload",
            "tls_auto_reload_interval", "tls_key_exchange_preferences");
        lr.Finish();

        switch (typeText?.ToLowerInvariant())
        {
            case null:
                Error(entry.Position, $"listeners.{index}", "listener type must be specified; write listener \"tcp\" { ... } or listener \"unix\" { ... }");
                return listener with { TlsDisable = true };
            case "tcp":
                return listener;
            case "unix":
                return listener with { Type = ListenerType.Unix };
            default:
                Error(entry.Position, $"listeners.{index}", $"unsupported listener type \"{typeText}\"; use \"tcp\" or \"unix\"");

                // Kept, with TLS checks off, so that rules counting listeners add no misleading follow-on errors.
                return listener with { TlsDisable = true };
        }
    }

    private string? TlsVersion(BlockReader r, string key)
    {
        var value = r.String(key);
        if (value is null or "" or "tls10" or "tls11" or "tls12" or "tls13")
            return string.IsNullOrEmpty(value) ? null : value;
        Error(r.Raw(key)!.Position, r.Child(key), $"invalid {key} \"{value}\"; use tls10, tls11, tls12 or tls13");
        return null;
    }

    // ---- telemetry and top level ------------------------------------------------------------------------------

    private static readonly string[] OtherTelemetryKeys =
    [
        "enable_hostname_label", "usage_gauge_period", "maximum_gauge_cardinality", "lease_metrics_epsilon",
        "num_lease_metrics_buckets", "add_lease_metrics_namespace_labels", "add_mount_point_rollback_metrics",
        "filter_default", "prefix_filter", "dogstatsd_tags", "unauthenticated_metrics_access",
        "circonus_api_token", "circonus_api_app", "circonus_api_url", "circonus_submission_interval",
        "circonus_submission_url", "circonus_check_id", "circonus_check_force_metric_activation",
        "circonus_check_instance_id", "circonus_check_search_tag", "circonus_check_display_name",
        "circonus_check_tags", "circonus_broker_id", "circonus_broker_select_tag",
        "stackdriver_project_id", "stackdriver_location", "stackdriver_namespace", "stackdriver_debug_logs",
    ];

    private TelemetryConfig BindTelemetry(BlockEntry entry)
    {
        var r = Reader(entry.Body, "telemetry");
        var other = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in OtherTelemetryKeys)
        {
            switch (r.Raw(key))
            {
                case null:
                    break;
                case HclList list:
                    other[key] = string.Join(",", list.Items.Select(i => ValueParser.TryString(i, out var s, out _) ? s : ""));
                    break;
                case var node when ValueParser.TryString(node, out var text, out var error):
                    other[key] = text;
                    break;
                case var node:
                    Error(node.Position, r.Child(key), $"expected a string, number or boolean, got {ValueParser.Describe(node)}");
                    break;
            }
        }

        var telemetry = new TelemetryConfig
        {
            PrometheusRetentionTime = r.Duration("prometheus_retention_time"),
            DisableHostname = r.Bool("disable_hostname") ?? false,
            MetricsPrefix = r.String("metrics_prefix"),
            StatsdAddress = r.String("statsd_address"),
            StatsiteAddress = r.String("statsite_address"),
            DogstatsdAddress = r.String("dogstatsd_addr"),
            Other = other,
            Position = entry.Position,
        };
        r.Finish();
        return telemetry;
    }

    private UpstreamClientSet BindClientSet(BlockReader r, string key)
    {
        var set = UpstreamClientSet.None;
        foreach (var (value, position) in r.StringList(key) ?? [])
        {
            if (!TryParseClient(value, out var client))
                Error(position, key, $"unknown {key} value: {value}; use \"auto-auth\", \"caching\" or \"proxying\"");
            set |= client;
        }

        return set;
    }

    /// <summary>auto-auth, caching, proxying; Vault Agent's <c>templating</c> is accepted and means nothing here.</summary>
    public static bool TryParseClient(string value, out UpstreamClientSet client)
    {
        (client, var ok) = value switch
        {
            "auto-auth" => (UpstreamClientSet.AutoAuth, true),
            "caching" or "proxying" => (UpstreamClientSet.Proxying, true),
            "templating" => (UpstreamClientSet.None, true),
            _ => (UpstreamClientSet.None, false),
        };
        return ok;
    }
}

/// <summary>One bound file, and whether it had a <c>vault</c> block (a later one replaces an earlier one whole).</summary>
internal sealed record BoundConfigFile(GatehouseConfig Config, bool HasVaultBlock);
