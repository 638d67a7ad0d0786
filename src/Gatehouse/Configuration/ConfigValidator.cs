using Gatehouse.GoCompat;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// The rules that span blocks, run once on the merged configuration (as Vault Proxy's ValidateConfig does). Each
/// message starts with Vault's own words, so that users can search for them, followed where useful by how to fix it.
/// Every rule is checked; nothing stops at the first problem.
/// </summary>
internal static class ConfigValidator
{
    public static void Validate(GatehouseConfig config, ICollection<ConfigDiagnostic> diagnostics)
    {
        var top = new SourcePosition(config.SourceFiles.Count > 0 ? config.SourceFiles[0] : "config", 0, 0);
        void Error(SourcePosition position, string path, string message) =>
            diagnostics.Add(new ConfigDiagnostic(position, path, message));

        // Where a merged, possibly overridden value was set: its place in a file, or its variable or flag.
        SourcePosition At(string path) => config.Origins.TryGetValue(path, out var position) ? position : top;

        var autoAuth = config.AutoAuth;
        var apiProxy = config.ApiProxy;
        var cache = config.Cache;
        var hasListeners = config.Listeners.Count > 0;

        // 1. Something to do at all.
        if (autoAuth is null && cache is null && !hasListeners)
        {
            Error(top, "", "no auto_auth, cache, or listener block found in config; " +
                "add a listener and an api_proxy, or an auto_auth block with a sink");
        }

        // 2. Cache and api_proxy serve on listeners.
        if (cache is not null && !hasListeners)
        {
            Error(cache.Position, "cache", "enabling the cache requires at least 1 listener to be defined; " +
                "add listener \"tcp\" { ... } or remove the cache block");
        }

        if (apiProxy is { FromCacheBlock: false } && !hasListeners)
        {
            Error(apiProxy.Position, "api_proxy", "configuring the api_proxy requires at least 1 listener to be defined; " +
                "add listener \"tcp\" { ... } or remove the api_proxy block");
        }

        // 3. The auto-auth token in the proxy.
        var stanza = apiProxy is { FromCacheBlock: true } ? "cache" : "api_proxy";
        var usesAutoAuthToken = apiProxy is not null && apiProxy.UseAutoAuthToken != AutoAuthTokenMode.Off;
        if (usesAutoAuthToken && autoAuth is null)
        {
            Error(apiProxy!.Position, $"{stanza}.use_auto_auth_token",
                $"{stanza}.use_auto_auth_token is true but auto_auth not configured; " +
                "add an auto_auth block or set use_auto_auth_token = false");
        }

        if (usesAutoAuthToken && autoAuth?.Method.WrapTtl is { } wrap && wrap > TimeSpan.Zero)
        {
            Error(autoAuth.Method.Position, $"{stanza}.use_auto_auth_token",
                $"{stanza}.use_auto_auth_token is true and auto_auth uses wrapping; " +
                "remove wrap_ttl from the method, or set use_auto_auth_token = false");
        }

        // A path rule for a token no request is given does nothing, which in a security setting is a mistake to report.
        if (!usesAutoAuthToken)
        {
            var why = $"has no effect: {stanza}.use_auto_auth_token is not set, so no request is given the auto-auth token; " +
                "set use_auto_auth_token = true (or \"force\"), or remove it";
            foreach (var (key, patterns) in new[] { ("auto_auth_token_allow_paths", apiProxy?.AutoAuthTokenAllowPaths), ("auto_auth_token_deny_paths", apiProxy?.AutoAuthTokenDenyPaths) })
            {
                if (patterns is [var first, ..])
                    Error(first.Position, $"api_proxy.{key}", $"api_proxy.{key} {why}");
            }

            foreach (var listener in config.Listeners.Where(l => l.Role != ListenerRole.MetricsOnly))
            {
                var type = listener.Type == ListenerType.Tcp ? "tcp" : "unix";
                foreach (var (key, patterns) in new[] { ("auto_auth_token_allow_paths", listener.AutoAuthTokenAllowPaths), ("auto_auth_token_deny_paths", listener.AutoAuthTokenDenyPaths) })
                {
                    if (patterns is not null)
                        Error(listener.PositionOf(key), $"listener \"{type}\".{key}", $"{key} {why}");
                }
            }
        }

        // 4. auto_auth must deliver its token somewhere.
        if (autoAuth is not null && autoAuth.Sinks.Count == 0 && !usesAutoAuthToken && cache is not { CacheStaticSecrets: true })
        {
            Error(autoAuth.Position, "auto_auth", "auto_auth requires at least one sink or api_proxy.use_auto_auth_token=true; " +
                "add sink \"file\" { config = { path = \"...\" } } or set api_proxy { use_auto_auth_token = true }");
        }

        if (autoAuth is not null)
            ValidateAutoAuth(autoAuth, Error);

        // 5. Cache (Vault 1.16 static-secret rules).
        if (cache is { CacheStaticSecrets: true } && autoAuth is null)
        {
            Error(cache.Position, "cache.cache_static_secrets",
                "cache.cache_static_secrets=true requires an auto-auth block configured, to use the token to connect with Vault's event system");
        }

        if (cache is { DisableCachingDynamicSecrets: true, CacheStaticSecrets: false })
        {
            Error(cache.Position, "cache", "to enable the cache, the cache must be configured to either cache static secrets or dynamic secrets; " +
                "set cache_static_secrets = true or remove disable_caching_dynamic_secrets");
        }

        if (cache is { StaticSecretTokenCapabilityRefreshInterval: { } capabilityRefresh } && capabilityRefresh < TimeSpan.FromSeconds(1))
        {
            Error(cache.Position, "cache.static_secret_token_capability_refresh_interval",
                $"static_secret_token_capability_refresh_interval must be at least 1s (got {Show(capabilityRefresh)}): a token's rights are checked that often");
        }

        if (cache is { StaticSecretRefreshInterval: { } refresh } && refresh != TimeSpan.Zero && refresh < TimeSpan.FromSeconds(1))
        {
            Error(cache.Position, "cache.static_secret_refresh_interval",
                $"static_secret_refresh_interval must be 0 (no polling: Vault's event stream only) or at least 1s (got {Show(refresh)})");
        }

        if (cache?.Persist is { } persist)
            ValidatePersist(persist, Error);
        if (cache?.Shared is { } shared)
        {
            ValidateShared(shared, Error);
            if (autoAuth?.Method.WrapTtl is { } sharedWrap && sharedWrap > TimeSpan.Zero)
            {
                Error(autoAuth.Method.Position, "auto_auth.method.wrap_ttl",
                    "wrap_ttl cannot be used with cache.shared: a wrapped token is unwrapped once, so a fleet cannot share it; remove wrap_ttl or the shared block");
            }
        }

        if (cache is { MaxEntries: <= 0 })
            Error(cache.Position, "cache.max_entries", "max_entries must be positive");
        if (cache is { MaxBytes: <= 0 })
            Error(cache.Position, "cache.max_bytes", "max_bytes must be positive");

        // 6. Listeners: each on its own, then no two on one address.
        foreach (var listener in config.Listeners)
            ValidateListener(listener, Error);
        ValidatePathPatterns(apiProxy?.AutoAuthTokenAllowPaths, "api_proxy.auto_auth_token_allow_paths", Error);
        ValidatePathPatterns(apiProxy?.AutoAuthTokenDenyPaths, "api_proxy.auto_auth_token_deny_paths", Error);
        ValidateDistinctAddresses(config.Listeners, Error);

        // 7. Process settings: every rule on log_*, so that start-up has none of its own (LoggingSettings only maps).
        if (!string.IsNullOrEmpty(config.LogLevel) && !ValueParser.TryParseLogLevel(config.LogLevel, out _))
            Error(At("log_level"), "log_level", $"unknown log level: {config.LogLevel}; use trace, debug, info, warn or error");
        if (!string.IsNullOrEmpty(config.LogFormat) && !ValueParser.TryParseLogFormat(config.LogFormat, out _))
            Error(At("log_format"), "log_format", $"unknown log format: {config.LogFormat}; use standard or json");
        if (config.LogRotateBytes is < 0)
            Error(At("log_rotate_bytes"), "log_rotate_bytes", "log_rotate_bytes must not be negative; use 0 for no size limit");
        if (config.LogRotateMaxFiles is < -1)
        {
            Error(At("log_rotate_max_files"), "log_rotate_max_files",
                "log_rotate_max_files must be -1 (keep no rotated files), 0 (keep all) or a positive count");
        }

        // 8. The upstream: an address every client can use, a whole client certificate, a retry count.
        if (VaultAddressProblem(config.Vault.EffectiveAddress) is { } addressProblem)
            Error(At("vault.address"), "vault.address", addressProblem);
        if (string.IsNullOrEmpty(config.Vault.ClientCert) != string.IsNullOrEmpty(config.Vault.ClientKey))
        {
            var given = string.IsNullOrEmpty(config.Vault.ClientCert) ? "vault.client_key" : "vault.client_cert";
            var missing = given == "vault.client_key" ? "vault.client_cert" : "vault.client_key";
            Error(At(given), given, $"both client cert and client key must be provided; set {missing} too, or remove {given}");
        }

        if (config.Vault.NumRetries is < -1)
        {
            Error(At("vault.retry.num_retries"), "vault.retry.num_retries",
                "num_retries must be -1 (no retries), 0 (the default, 12) or more");
        }

        if (config.Vault.UnavailableRetryBudget is { } unavailable && unavailable < TimeSpan.Zero)
        {
            Error(At("vault.retry.unavailable_budget"), "vault.retry.unavailable_budget",
                "unavailable_budget must not be negative; use a duration such as 5s, or 0 to return Vault's 503 at once");
        }

        // 9. The API proxy's bounds on requests to Vault under overload (Gatehouse only).
        if (apiProxy?.MaxUpstreamRequests is <= 0)
        {
            Error(At("api_proxy.max_upstream_requests"), "api_proxy.max_upstream_requests",
                $"max_upstream_requests must be positive; use a number such as {Defaults.MaxUpstreamRequests}");
        }

        if (apiProxy?.UpstreamQueueTimeout is { } queueTimeout && queueTimeout <= TimeSpan.Zero)
        {
            Error(At("api_proxy.upstream_queue_timeout"), "api_proxy.upstream_queue_timeout",
                "upstream_queue_timeout must be positive; use a duration such as 5s");
        }
    }

    /// <summary>
    /// Why Gatehouse cannot talk to Vault at <paramref name="address"/>, or null: it must be an absolute http or https
    /// URL with a host. Go's wording ("missing protocol scheme", "unsupported protocol scheme") is kept.
    /// </summary>
    private static string? VaultAddressProblem(string address)
    {
        const string Example = "use a URL such as https://127.0.0.1:8200";
        if (!address.Contains("://", StringComparison.Ordinal))
            return $"invalid address \"{address}\": missing protocol scheme; {Example}";
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
            return $"invalid address \"{address}\": not a valid URL (check the host and the port, 0-65535); {Example}";
        if (uri.Scheme == "unix")
            return "unix socket addresses (unix://) are not supported by Gatehouse yet; use http:// or https:// with a host and port";
        if (uri.Scheme is not ("http" or "https"))
            return $"unsupported protocol scheme \"{uri.Scheme}\" in address \"{address}\"; use http:// or https://";
        return uri.Host.Length == 0 ? $"invalid address \"{address}\": missing host; {Example}" : null;
    }

    private static void ValidateAutoAuth(AutoAuthConfig autoAuth, Action<SourcePosition, string, string> error)
    {
        var method = autoAuth.Method;
        var methodPath = $"auto_auth.method \"{method.Type}\"";
        var methodWraps = method.WrapTtl is { } w && w > TimeSpan.Zero;
        if (methodWraps && autoAuth.Sinks.Count != 1)
        {
            error(method.Position, "auto_auth", "wrapping enabled on auth method and 0 or many sinks defined; " +
                "method wrap_ttl needs exactly one sink");
        }

        if (methodWraps && autoAuth.Sinks.Any(s => s.WrapTtl is { } sw && sw > TimeSpan.Zero))
        {
            error(method.Position, "auto_auth", "wrapping enabled both on auth method and sink; " +
                "set wrap_ttl on the method or on the sink, not both");
        }

        if (method.EffectiveMinBackoff >= method.EffectiveMaxBackoff && (method.MinBackoff is not null || method.MaxBackoff is not null))
        {
            error(method.Position, methodPath, "min_backoff cannot be greater than max_backoff; " +
                $"min_backoff is {Show(method.EffectiveMinBackoff)} and max_backoff is {Show(method.EffectiveMaxBackoff)}: make min_backoff smaller");
        }

        if (method.MinBackoff is { } min && min < TimeSpan.Zero)
            error(method.Position, $"{methodPath}.min_backoff", "min_backoff must not be negative");
        if (method.WrapTtl is { } ttl && ttl < TimeSpan.Zero)
            error(method.Position, $"{methodPath}.wrap_ttl", "wrap_ttl must not be negative");

        foreach (var sink in autoAuth.Sinks)
        {
            var problems = new List<ConfigDiagnostic>();
            MethodConfigRules.CheckSinkEncryption(sink, $"auto_auth.sink \"{sink.Type}\"", problems);
            foreach (var problem in problems)
                error(problem.Position, problem.Path, problem.Message);
        }
    }

    private static void ValidatePersist(PersistConfig persist, Action<SourcePosition, string, string> error)
    {
        var path = $"cache.persist \"{persist.Type}\"";
        if (persist.Type is not ("kubernetes" or "file"))
        {
            error(persist.Position, path, $"persistent key protection type \"{persist.Type}\" not supported; " +
                "use \"kubernetes\" or \"file\"");
            return;
        }

        if (string.IsNullOrEmpty(persist.Path))
            error(persist.Position, path, "must specify persistent cache path; set path = \"/path/to/cache-dir\"");
        if (persist.Type == "file" && string.IsNullOrEmpty(persist.KeyFile) && string.IsNullOrEmpty(persist.KeyEnvVar))
        {
            error(persist.Position, path, "persist \"file\" needs an encryption key: set key_file or key_env_var " +
                "(a base64-encoded 32-byte key)");
        }

        if (!string.IsNullOrEmpty(persist.KeyFile) && !string.IsNullOrEmpty(persist.KeyEnvVar))
            error(persist.Position, path, "key_file and key_env_var are mutually exclusive; set one of them");
    }

    /// <summary>
    /// <c>cache { shared "redis" }</c> (ours): everything start-up would otherwise find: the address, exactly one key
    /// source and its content (read now, as start-up will), the password file, the TLS files and their pairing, the
    /// timeouts and the prefix.
    /// </summary>
    private static void ValidateShared(SharedConfig shared, Action<SourcePosition, string, string> error)
    {
        var path = $"cache.shared \"{shared.Type}\"";
        if (shared.Type != "redis")
        {
            error(shared.Position, path, $"shared store type \"{shared.Type}\" not supported; use shared \"redis\" (any Redis-protocol server, Valkey included)");
            return;
        }

        if (!SharedAddress.TryParse(shared.Address, out var address, out var addressError))
            error(shared.PositionOf("address"), $"{path}.address", addressError);
        else if (address.IsUnix && shared.TlsOn)
            error(shared.PositionOf("tls_enable"), path, "TLS over a unix socket is not supported; remove the tls_* settings or use host:port");

        var hasFile = !string.IsNullOrEmpty(shared.KeyFile);
        var hasVariable = !string.IsNullOrEmpty(shared.KeyEnvVar);
        if (!hasFile && !hasVariable)
        {
            error(shared.Position, path, "the shared store needs an encryption key: set key_file or key_env_var " +
                "(base64 of at least 32 bytes; the key never goes to Redis)");
        }
        else if (hasFile && hasVariable)
        {
            error(shared.PositionOf("key_file"), path, "key_file and key_env_var are mutually exclusive; set one of them");
        }
        else if (hasFile)
        {
            var at = shared.PositionOf("key_file");
            if (ReadFile(shared.KeyFile!, out var text) is { } unreadable)
                error(at, $"{path}.key_file", $"cannot read key_file {shared.KeyFile}: {unreadable}");
            else if (SharedKeyText.Problem(text) is { } problem)
                error(at, $"{path}.key_file", $"key_file {shared.KeyFile} {problem}");
        }

        if (!string.IsNullOrEmpty(shared.Password) && !string.IsNullOrEmpty(shared.PasswordFile))
            error(shared.PositionOf("password_file"), path, "password and password_file are mutually exclusive; set one of them");
        if (!string.IsNullOrEmpty(shared.PasswordFile) && ReadFile(shared.PasswordFile, out _) is { } passwordUnreadable)
            error(shared.PositionOf("password_file"), $"{path}.password_file", $"cannot read password_file {shared.PasswordFile}: {passwordUnreadable}");
        if (!string.IsNullOrEmpty(shared.Username) && string.IsNullOrEmpty(shared.Password) && string.IsNullOrEmpty(shared.PasswordFile))
            error(shared.PositionOf("username"), path, "username needs a password: set password or password_file");

        if (shared.TlsEnable == false && (!string.IsNullOrEmpty(shared.TlsCaCert) || !string.IsNullOrEmpty(shared.TlsClientCert)
                || !string.IsNullOrEmpty(shared.TlsClientKey) || !string.IsNullOrEmpty(shared.TlsServerName) || shared.TlsSkipVerify))
        {
            error(shared.PositionOf("tls_enable"), path, "tls_enable = false but other tls_* settings are given; remove them or set tls_enable = true");
        }

        if (string.IsNullOrEmpty(shared.TlsClientCert) != string.IsNullOrEmpty(shared.TlsClientKey))
        {
            var (given, missing) = string.IsNullOrEmpty(shared.TlsClientCert) ? ("tls_client_key", "tls_client_cert") : ("tls_client_cert", "tls_client_key");
            error(shared.PositionOf(given), $"{path}.{given}", $"both tls_client_cert and tls_client_key must be provided; set {missing} too, or remove {given}");
        }

        foreach (var (key, file) in new[] { ("tls_ca_cert", shared.TlsCaCert), ("tls_client_cert", shared.TlsClientCert), ("tls_client_key", shared.TlsClientKey) })
        {
            if (!string.IsNullOrEmpty(file) && ReadFile(file, out _) is { } unreadable)
                error(shared.PositionOf(key), $"{path}.{key}", $"cannot read {key} {file}: {unreadable}");
        }

        if (shared.ConnectTimeout is { } connect && connect <= TimeSpan.Zero)
            error(shared.PositionOf("connect_timeout"), $"{path}.connect_timeout", "connect_timeout must be positive; use a duration such as 5s");
        if (shared.OperationTimeout is { } operation && operation <= TimeSpan.Zero)
            error(shared.PositionOf("operation_timeout"), $"{path}.operation_timeout", "operation_timeout must be positive; use a duration such as 250ms");
        if (shared.KeyPrefix is { } prefix && (prefix.Length == 0 || prefix.Any(char.IsWhiteSpace)))
            error(shared.PositionOf("key_prefix"), $"{path}.key_prefix", "key_prefix must be non-empty and hold no white space; the default is \"gatehouse:\"");
    }

    /// <summary>A file's text, or why it cannot be read (null when it was read).</summary>
    private static string? ReadFile(string file, out string text)
    {
        text = "";
        try
        {
            text = File.ReadAllText(file);
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return exception.Message;
        }
    }

    /// <summary>
    /// One listener: what it needs to bind (a tcp address Gatehouse can parse, a unix socket path), the TLS settings
    /// unless tls_disable (a unix socket serves TLS too, as in Vault), and a socket owner that exists on this host.
    /// These are the rules the listener would otherwise find at start-up; it applies the same ones
    /// (<see cref="TcpListenerAddress"/>, <see cref="TlsCipherSuites"/>, <see cref="UnixAccounts"/>).
    /// </summary>
    private static void ValidateListener(ListenerConfig listener, Action<SourcePosition, string, string> error)
    {
        var path = $"listener \"{(listener.Type == ListenerType.Tcp ? "tcp" : "unix")}\"";
        if (listener.Type == ListenerType.Unix && string.IsNullOrEmpty(listener.Address))
            error(listener.Position, path, "address is required for a unix listener; set address = \"/path/to/socket\"");
        if (listener.Type == ListenerType.Tcp && !TcpListenerAddress.TryParse(listener.EffectiveAddress, out _, out _, out var addressError))
            error(listener.PositionOf("address"), $"{path}.address", addressError);

        if (!listener.TlsDisable)
        {
            if (string.IsNullOrEmpty(listener.TlsCertFile))
            {
                error(listener.Position, path, "'tls_cert_file' must be set; " +
                    "TLS is on unless tls_disable = true: set tls_cert_file and tls_key_file, or tls_disable = true");
            }

            if (string.IsNullOrEmpty(listener.TlsKeyFile))
                error(listener.Position, path, "'tls_key_file' must be set; set tls_key_file, or tls_disable = true");
            if (listener.TlsRequireAndVerifyClientCert && listener.TlsDisableClientCerts)
            {
                error(listener.Position, path, "'tls_disable_client_certs' and 'tls_require_and_verify_client_cert' are mutually exclusive; " +
                    "remove one of them");
            }

            if (listener.TlsMinVersion is { } min && listener.TlsMaxVersion is { } max && string.CompareOrdinal(min, max) > 0)
                error(listener.Position, path, $"tls_min_version ({min}) is greater than tls_max_version ({max})");
            if (!TlsCipherSuites.TryParse(listener.TlsCipherSuites, out _, out var suitesError))
                error(listener.PositionOf("tls_cipher_suites"), $"{path}.tls_cipher_suites", suitesError);
        }

        foreach (var (key, patterns) in new[]
                 {
                     ("auto_auth_token_allow_paths", listener.AutoAuthTokenAllowPaths),
                     ("auto_auth_token_deny_paths", listener.AutoAuthTokenDenyPaths),
                 })
        {
            if (patterns is null)
                continue;
            if (listener.Role == ListenerRole.MetricsOnly)
            {
                // An error, not a warning: a rule that silently does nothing is the wrong thing to leave in a security setting.
                error(listener.PositionOf(key), $"{path}.{key}",
                    $"{key} has no effect on a listener with role \"metrics_only\", which serves no Vault API requests; " +
                    "remove it, or set it on the listener that serves the applications");
            }

            ValidatePathPatterns(patterns, $"{path}.{key}", error);
        }

        if (listener.Type == ListenerType.Unix && !OperatingSystem.IsWindows())
        {
            if (listener.SocketUser is { Length: > 0 } user && !UnixAccounts.TryResolveUser(user, out _))
            {
                error(listener.PositionOf("socket_user"), $"{path}.socket_user",
                    $"socket_user \"{user}\" is not a known user on this host; create the user, or give a numeric uid");
            }

            if (listener.SocketGroup is { Length: > 0 } group && !UnixAccounts.TryResolveGroup(group, out _))
            {
                error(listener.PositionOf("socket_group"), $"{path}.socket_group",
                    $"socket_group \"{group}\" is not a known group on this host; create the group, or give a numeric gid");
            }
        }
    }

    /// <summary>Each auto-auth path pattern at its own place (<see cref="PathPatternRules"/>).</summary>
    private static void ValidatePathPatterns(IReadOnlyList<PathPatternConfig>? patterns, string path, Action<SourcePosition, string, string> error)
    {
        foreach (var pattern in patterns ?? [])
        {
            if (PathPatternRules.Problem(pattern.Pattern) is { } problem)
                error(pattern.Position, path, problem);
        }
    }

    /// <summary>
    /// Two listeners on one address can never both bind (Go: "address already in use"). A tcp address conflicts with
    /// the same host and port, and with a wildcard on that port (0.0.0.0 covers every IPv4 address; [::] is bound
    /// dual-stack and covers every address). Port 0 (any free port) never conflicts; host names other than localhost
    /// are compared as written, since resolving them is start-up's business. Unix sockets conflict on the same path.
    /// </summary>
    private static void ValidateDistinctAddresses(IReadOnlyList<ListenerConfig> listeners, Action<SourcePosition, string, string> error)
    {
        for (var i = 1; i < listeners.Count; i++)
        {
            var later = listeners[i];
            for (var j = 0; j < i; j++)
            {
                var earlier = listeners[j];
                if (Overlap(earlier, later) is not { } how)
                    continue;
                var type = later.Type == ListenerType.Tcp ? "tcp" : "unix";
                var detail = how switch
                {
                    Coverage.Same => "",
                    Coverage.EarlierCoversLater => $", which includes {later.EffectiveAddress}",
                    _ => $", which {later.EffectiveAddress} includes",
                };
                error(later.PositionOf("address"), $"listener \"{type}\".address",
                    $"address already in use: listener \"{(earlier.Type == ListenerType.Tcp ? "tcp" : "unix")}\" at {earlier.Position} " +
                    $"already listens on {earlier.EffectiveAddress}{detail}; give each listener its own address");
                break;
            }
        }
    }

    private enum Coverage
    {
        Same,
        EarlierCoversLater,
        LaterCoversEarlier,
    }

    private static Coverage? Overlap(ListenerConfig earlier, ListenerConfig later)
    {
        if (earlier.Type != later.Type)
            return null;
        if (earlier.Type == ListenerType.Unix)
        {
            return earlier.EffectiveAddress.Length > 0 && later.EffectiveAddress.Length > 0
                && string.Equals(Path.GetFullPath(earlier.EffectiveAddress), Path.GetFullPath(later.EffectiveAddress), StringComparison.Ordinal)
                ? Coverage.Same : null;
        }

        if (!TcpListenerAddress.TryParse(earlier.EffectiveAddress, out var earlierHost, out var earlierPort, out _)
            || !TcpListenerAddress.TryParse(later.EffectiveAddress, out var laterHost, out var laterPort, out _)
            || earlierPort != laterPort || earlierPort == 0)
        {
            return null;
        }

        var a = TcpListenerAddress.KnownAddress(earlierHost);
        var b = TcpListenerAddress.KnownAddress(laterHost);
        if (a is null || b is null)
            return a is null && b is null && string.Equals(earlierHost, laterHost, StringComparison.OrdinalIgnoreCase) ? Coverage.Same : null;
        if (a.Equals(b))
            return Coverage.Same;
        if (Covers(a, b))
            return Coverage.EarlierCoversLater;
        return Covers(b, a) ? Coverage.LaterCoversEarlier : null;

        static bool Covers(System.Net.IPAddress wildcard, System.Net.IPAddress other) =>
            wildcard.Equals(System.Net.IPAddress.IPv6Any)
            || (wildcard.Equals(System.Net.IPAddress.Any) && other.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
    }

    private static string Show(TimeSpan value) => GoFormat.FormatDuration(value);
}
