using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>A <c>listener</c> block, tcp or unix.</summary>
internal sealed partial class ConfigBinder
{
    // Each enumeration is a table of its spellings and the value each means; absent or empty is the reader's default.

    private static readonly (string, ListenerRole)[] ListenerRoleChoices =
        [("default", ListenerRole.Default), ("metrics_only", ListenerRole.MetricsOnly)];

    private static readonly (string, string?)[] TlsVersionChoices =
        [("tls10", "tls10"), ("tls11", "tls11"), ("tls12", "tls12"), ("tls13", "tls13")];

    /// <summary>Keys a Vault server listener takes that Vault Agent/Proxy parse and then ignore or prune.</summary>
    private static readonly string[] ListenerIgnoredKeys =
    [
        "telemetry", "http_read_header_timeout", "http_read_timeout", "http_write_timeout", "http_idle_timeout",
        "max_request_duration", "custom_response_headers", "proxy_protocol_behavior",
        "proxy_protocol_authorized_addrs", "x_forwarded_for_authorized_addrs", "x_forwarded_for_hop_skips",
        "x_forwarded_for_reject_not_authorized", "x_forwarded_for_reject_not_present",
        "x_forwarded_for_client_cert_header", "x_forwarded_for_client_cert_header_decoders",
        "tls_prefer_server_cipher_suites", "cluster_address", "purpose", "profiling",
        "inflight_requests_logging", "cors", "unauthenticated_metrics_access",
        "disable_replication_status_endpoints", "redact_addresses", "redact_cluster_name", "redact_version",
        "chroot_namespace", "disable_request_limiter",
    ];

    private const string ListenerKeyRefused = "not supported by Gatehouse yet; configure the certificate with tls_cert_file and tls_key_file";

    /// <summary>Listener keys Vault knows and Gatehouse refuses (ACME, certificate reloading, key exchange preferences).</summary>
    private static readonly string[] ListenerRefusedKeys =
    [
        "tls_acme_ca_directory", "tls_acme_domains", "tls_acme_email", "tls_acme_cache_path",
        "tls_acme_key_type", "tls_acme_eab_key_id", "tls_acme_eab_mac_key", "tls_acme_testing_ca_root",
        "tls_auto_reload", "tls_auto_reload_interval", "tls_key_exchange_preferences",
    ];

    private ListenerConfig BindListener(BlockEntry entry, int index)
    {
        var lr = TypedReader(entry, "listener", out var typeText, out _);

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

        var role = lr.Choice("role", ListenerRole.Default, ListenerRoleChoices,
            other => $"unsupported listener role \"{other}\"; use \"default\" or \"metrics_only\"");

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
            AutoAuthTokenAllowPaths = PathPatterns(lr, "auto_auth_token_allow_paths"),
            AutoAuthTokenDenyPaths = PathPatterns(lr, "auto_auth_token_deny_paths"),
            Position = entry.Position,
            ValuePositions = lr.ValuePositions(),
        };

        lr.Ignore(ListenerIgnoredKeys);
        lr.Refuse(ListenerKeyRefused, ListenerRefusedKeys);
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

    private static string? TlsVersion(BlockReader r, string key) =>
        r.Choice(key, null, TlsVersionChoices, value => $"invalid {key} \"{value}\"; use tls10, tls11, tls12 or tls13");
}
