using Gatehouse.GoCompat;

namespace Gatehouse.Configuration;

/// <summary>
/// The environment variables Vault Agent/Proxy honour, applied over the merged files. OpenBao's <c>BAO_*</c> name is
/// read first, then Vault's <c>VAULT_*</c>. The environment is passed in, never read here, so tests supply their own.
/// Unlike Vault, <c>VAULT_SKIP_VERIFY</c> is parsed as a boolean: "false" means false.
/// </summary>
internal static class EnvironmentOverrides
{
    /// <summary>The first of <paramref name="names"/> that is set to a non-empty value, with its name.</summary>
    public static (string Name, string Value)? Lookup(Func<string, string?> environment, params string[] names)
    {
        foreach (var name in names)
        {
            if (environment(name) is { Length: > 0 } value)
                return (name, value);
        }

        return null;
    }

    private static (string Name, string Value)? Pair(Func<string, string?> environment, string suffix) =>
        Lookup(environment, $"BAO_{suffix}", $"VAULT_{suffix}");

    /// <summary>
    /// The vault-stanza strings an environment variable replaces (BAO_&lt;suffix&gt;, else VAULT_&lt;suffix&gt;), with the
    /// path the value's origin is kept under.
    /// </summary>
    private static readonly (string Suffix, string Path, Func<VaultConfig, string, VaultConfig> Apply)[] StringOverrides =
    [
        ("ADDR", "vault.address", static (v, value) => v with { Address = value }),
        ("CACERT", "vault.ca_cert", static (v, value) => v with { CaCert = value }),
        ("CAPATH", "vault.ca_path", static (v, value) => v with { CaPath = value }),
        ("CLIENT_CERT", "vault.client_cert", static (v, value) => v with { ClientCert = value }),
        ("CLIENT_KEY", "vault.client_key", static (v, value) => v with { ClientKey = value }),
        ("TLS_SERVER_NAME", "vault.tls_server_name", static (v, value) => v with { TlsServerName = value }),
        ("NAMESPACE", "vault.namespace", static (v, value) => v with { Namespace = value }),
    ];

    /// <summary>
    /// Applies the variables that are set. Each value replaced records the variable as its origin (see
    /// <see cref="GatehouseConfig.Origins"/>), so that a problem with it is reported at the variable.
    /// </summary>
    public static GatehouseConfig Apply(GatehouseConfig config, Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics)
    {
        var vault = config.Vault;
        var origins = config.Origins.ToBuilder();
        foreach (var (suffix, path, apply) in StringOverrides)
        {
            if (Pair(environment, suffix) is { } pair)
            {
                vault = apply(vault, pair.Value);
                origins[path] = ConfigDiagnostic.Environment(pair.Name);
            }
        }

        if (Pair(environment, "SKIP_VERIFY") is { } skip)
        {
            if (GoFormat.TryParseBool(skip.Value, out var on))
            {
                vault = vault with { TlsSkipVerify = on };
                origins["vault.tls_skip_verify"] = ConfigDiagnostic.Environment(skip.Name);
            }
            else
            {
                diagnostics.Add(new ConfigDiagnostic(ConfigDiagnostic.Environment(skip.Name), "",
                    $"invalid boolean \"{skip.Value}\"; use true or false"));
            }
        }

        if (Pair(environment, "MAX_RETRIES") is { } retries)
        {
            if (int.TryParse(retries.Value, out var n))
            {
                vault = vault with { NumRetries = n };
                origins["vault.retry.num_retries"] = ConfigDiagnostic.Environment(retries.Name);
            }
            else
                diagnostics.Add(new ConfigDiagnostic(ConfigDiagnostic.Environment(retries.Name), "", $"invalid number \"{retries.Value}\""));
        }

        config = config with { Vault = vault };
        if (Pair(environment, "LOG_LEVEL") is { } level)
        {
            config = config with { LogLevel = level.Value };
            origins["log_level"] = ConfigDiagnostic.Environment(level.Name);
        }

        // Vault's applyLogConfigOverrides: the flag, else the variable, else the file (the validator checks the value).
        if (Pair(environment, "LOG_FORMAT") is { } format)
        {
            config = config with { LogFormat = format.Value };
            origins["log_format"] = ConfigDiagnostic.Environment(format.Name);
        }

        config = config with
        {
            Origins = origins.ToImmutable(),
            DisableIdleConnections = ClientSet(environment, diagnostics, "DISABLE_IDLE_CONNECTIONS", "disable_idle_connections", config.DisableIdleConnections),
            DisableKeepAlives = ClientSet(environment, diagnostics, "DISABLE_KEEP_ALIVES", "disable_keep_alives", config.DisableKeepAlives),
        };
        return config;
    }

    /// <summary>
    /// Flags beat everything; only the flags that were given are applied, each recording the flag as the value's
    /// origin (see <see cref="GatehouseConfig.Origins"/>).
    /// </summary>
    public static GatehouseConfig ApplyFlags(GatehouseConfig config, ConfigOverrides flags)
    {
        var origins = config.Origins.ToBuilder();
        T? Flag<T>(T? given, T? current, string flag, string path)
        {
            if (given is null)
                return current;
            origins[path] = ConfigDiagnostic.Flag(flag);
            return given;
        }

        var v = config.Vault;
        v = v with
        {
            Address = Flag(flags.Address, v.Address, "address", "vault.address"),
            CaCert = Flag(flags.CaCert, v.CaCert, "ca-cert", "vault.ca_cert"),
            CaPath = Flag(flags.CaPath, v.CaPath, "ca-path", "vault.ca_path"),
            ClientCert = Flag(flags.ClientCert, v.ClientCert, "client-cert", "vault.client_cert"),
            ClientKey = Flag(flags.ClientKey, v.ClientKey, "client-key", "vault.client_key"),
            TlsSkipVerify = Flag(flags.TlsSkipVerify, v.TlsSkipVerify, "tls-skip-verify", "vault.tls_skip_verify") ?? false,
            TlsServerName = Flag(flags.TlsServerName, v.TlsServerName, "tls-server-name", "vault.tls_server_name"),
            Namespace = Flag(flags.Namespace, v.Namespace, "namespace", "vault.namespace"),
        };
        return config with
        {
            Vault = v,
            LogLevel = Flag(flags.LogLevel, config.LogLevel, "log-level", "log_level"),
            LogFormat = Flag(flags.LogFormat, config.LogFormat, "log-format", "log_format"),
            LogFile = Flag(flags.LogFile, config.LogFile, "log-file", "log_file"),
            LogRotateBytes = Flag(flags.LogRotateBytes, config.LogRotateBytes, "log-rotate-bytes", "log_rotate_bytes"),
            LogRotateDuration = Flag(flags.LogRotateDuration, config.LogRotateDuration, "log-rotate-duration", "log_rotate_duration"),
            LogRotateMaxFiles = Flag(flags.LogRotateMaxFiles, config.LogRotateMaxFiles, "log-rotate-max-files", "log_rotate_max_files"),
            ExitAfterAuth = flags.ExitAfterAuth ?? config.ExitAfterAuth,
            Origins = origins.ToImmutable(),
        };
    }

    // A comma list that replaces the config value: BAO_PROXY_, VAULT_PROXY_, then the Agent forms.
    private static UpstreamClientSet ClientSet(
        Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics, string suffix, string key, UpstreamClientSet current)
    {
        if (Lookup(environment, $"BAO_PROXY_{suffix}", $"VAULT_PROXY_{suffix}", $"BAO_AGENT_{suffix}", $"VAULT_AGENT_{suffix}") is not { } found)
            return current;
        var set = UpstreamClientSet.None;
        foreach (var value in found.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (ConfigBinder.TryParseClient(value, out var client))
                set |= client;
            else
            {
                diagnostics.Add(new ConfigDiagnostic(ConfigDiagnostic.Environment(found.Name), "",
                    $"unknown {key} value: {value}; use \"auto-auth\", \"caching\" or \"proxying\""));
            }
        }

        return set;
    }
}
