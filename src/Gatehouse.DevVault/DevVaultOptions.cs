using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gatehouse.DevVault;

/// <summary>How to start a <see cref="DevVaultServer"/>. Every default gives a plain Vault 1.8 dev server.</summary>
public sealed record DevVaultOptions
{
    /// <summary>host:port to listen on. The default is "127.0.0.1:0" (an ephemeral port).</summary>
    public string ListenAddress { get; init; } = "127.0.0.1:0";

    /// <summary>The root token's id, like <c>-dev-root-token-id</c>. The default is "root".</summary>
    public string RootTokenId { get; init; } = "root";

    /// <summary>The clock for every TTL, expiry and timestamp. The default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Like <c>vault server -dev -dev-leased-kv</c>: <c>secret/</c> is KV v1 and reads get renewable leases.</summary>
    public bool LeasedKv { get; init; }

    /// <summary>Emulate Vault Enterprise's X-Vault-Index / 412 consistency model. The default is off (OSS).</summary>
    public bool EnterpriseConsistency { get; init; }

    /// <summary>With <see cref="EnterpriseConsistency"/>: how long a write takes to become visible to index checks.</summary>
    public TimeSpan ReplicationLag { get; init; }

    /// <summary>When set, serve HTTPS and accept (not require) client certificates, for cert auth.</summary>
    public X509Certificate2? TlsCertificate { get; init; }

    /// <summary>
    /// Serve HTTPS with a certificate for this DNS name, and for no address: a throwaway CA, made at start, issues it,
    /// and <see cref="DevVaultServer.TlsCaCertificate"/> / <see cref="DevVaultServer.TlsCaCertificatePem"/> give the
    /// CA to trust. The server still listens on <see cref="ListenAddress"/> (127.0.0.1), so a client must verify the
    /// name it was told, as a Vault client with <c>ca_cert</c> and <c>tls_server_name = "vault.test"</c> does. Like
    /// Vault, one certificate whatever the SNI (see <see cref="IngressHost"/> for SNI routing). Not with
    /// <see cref="TlsCertificate"/>. The default is null: no generated certificate.
    /// </summary>
    public string? TlsServerName { get; init; }

    /// <summary>
    /// Put DevVault behind an emulated ingress that routes by Host: only a request whose Host header names this
    /// host (port ignored, any case, as nginx matches <c>server_name</c>) reaches Vault; any other Host, an empty one
    /// included, gets the ingress's default backend: 404 <c>text/plain; charset=utf-8</c>
    /// <c>default backend - 404</c>, never seen by Vault (not counted in <see cref="DevVaultServer.Faults"/>). With
    /// TLS on, a handshake whose SNI is not this host gets ingress-nginx's self-signed "Kubernetes Ingress Controller
    /// Fake Certificate" instead of the real one. The default is null: no ingress, any Host is served.
    /// </summary>
    public string? IngressHost { get; init; }

    /// <summary>Logging; the default is none at all, to keep the hot path cheap.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The listen backlog (connections accepted by the kernel but not yet by the server). Null means Kestrel's, 512.
    /// Vault (Go) uses the kernel's <c>net.core.somaxconn</c>: 4096 on Linux 5.4 and later, 128 before; a small one
    /// lets benchmarks show what a burst of new connections does to a Vault on such a host.
    /// </summary>
    public int? ListenBacklog { get; init; }

    /// <summary>
    /// Emulate Vault Enterprise 1.16+'s event notifications for KV: <c>GET /v1/sys/events/subscribe/{eventType}?json=true</c>
    /// upgrades to a WebSocket that carries one CloudEvents JSON text frame per KV v1/v2 change. The default is off,
    /// the common case: Vault Community Edition (before 1.16, and since, where the endpoint is Enterprise-only) and
    /// OpenBao have no such endpoint, and the path answers as any unknown sys path does (404 for a token allowed to
    /// read it, 403 otherwise). See docs/devvault.md.
    /// </summary>
    public bool EventStream { get; init; }

    /// <summary>Largest accepted request body; larger bodies get 413. The default is 32 MiB, like Vault.</summary>
    public long MaxRequestSize { get; init; } = 32 * 1024 * 1024;
}
