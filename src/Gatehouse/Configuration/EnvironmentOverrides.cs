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

    /// <summary>The vault-stanza strings an environment variable replaces: BAO_&lt;suffix&gt;, else VAULT_&lt;suffix&gt;.</summary>
    private static readonly (string Suffix, Func<VaultConfig, string, VaultConfig> Apply)[] StringOverrides =
    [
        ("ADDR", static (v, value) => v with { Address = value }),
        ("CACERT", static (v, value) => v with { CaCert = value }),
        ("CAPATH", static (v, value) => v with { CaPath = value }),
        ("CLIENT_CERT", static (v, value) => v with { ClientCert = value }),
        ("CLIENT_KEY", static (v, value) => v with { ClientKey = value }),
        ("TLS_SERVER_NAME", static (v, value) => v with { TlsServerName = value }),
        ("NAMESPACE", static (v, value) => v with { Namespace = value }),
    ];

    public static GatehouseConfig Apply(GatehouseConfig config, Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics)
    {
        var vault = config.Vault;
        foreach (var (suffix, apply) in StringOverrides)
        {
            if (Pair(environment, suffix) is { } pair)
                vault = apply(vault, pair.Value);
        }

        if (Pair(environment, "SKIP_VERIFY") is { } skip)
        {
            if (ValueParser.TryParseGoBool(skip.Value, out var on))
                vault = vault with { TlsSkipVerify = on };
            else
            {
                diagnostics.Add(new ConfigDiagnostic(ConfigDiagnostic.Environment(skip.Name), "",
                    $"invalid boolean \"{skip.Value}\"; use true or false"));
            }
        }

        if (Pair(environment, "MAX_RETRIES") is { } retries)
        {
            if (int.TryParse(retries.Value, out var n))
                vault = vault with { NumRetries = n };
            else
                diagnostics.Add(new ConfigDiagnostic(ConfigDiagnostic.Environment(retries.Name), "", $"invalid number \"{retries.Value}\""));
        }

        config = config with { Vault = vault };
        if (Pair(environment, "LOG_LEVEL") is { } level)
            config = config with { LogLevel = level.Value };

        config = config with
        {
            DisableIdleConnections = ClientSet(environment, diagnostics, "DISABLE_IDLE_CONNECTIONS", "disable_idle_connections", config.DisableIdleConnections),
            DisableKeepAlives = ClientSet(environment, diagnostics, "DISABLE_KEEP_ALIVES", "disable_keep_alives", config.DisableKeepAlives),
        };
        return config;
    }

    /// <summary>Flags beat everything; only the flags that were given are applied.</summary>
    public static GatehouseConfig ApplyFlags(GatehouseConfig config, ConfigOverrides flags)
    {
        var v = config.Vault;
        v = v with
        {
            Address = flags.Address ?? v.Address,
            CaCert = flags.CaCert ?? v.CaCert,
            CaPath = flags.CaPath ?? v.CaPath,
            ClientCert = flags.ClientCert ?? v.ClientCert,
            ClientKey = flags.ClientKey ?? v.ClientKey,
            TlsSkipVerify = flags.TlsSkipVerify ?? v.TlsSkipVerify,
            TlsServerName = flags.TlsServerName ?? v.TlsServerName,
            Namespace = flags.Namespace ?? v.Namespace,
        };
        return config with
        {
            Vault = v,
            LogLevel = flags.LogLevel ?? config.LogLevel,
            LogFormat = flags.LogFormat ?? config.LogFormat,
            LogFile = flags.LogFile ?? config.LogFile,
            LogRotateBytes = flags.LogRotateBytes ?? config.LogRotateBytes,
            LogRotateDuration = flags.LogRotateDuration ?? config.LogRotateDuration,
            LogRotateMaxFiles = flags.LogRotateMaxFiles ?? config.LogRotateMaxFiles,
            ExitAfterAuth = flags.ExitAfterAuth ?? config.ExitAfterAuth,
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
