namespace Gatehouse;

/// <summary>
/// The names of Vault's <c>X-Vault-*</c> request and response headers, spelled once. It lives in the root namespace
/// so that every folder may use it (see the dependency rule in ARCHITECTURE.md). Compare them case-insensitively:
/// HTTP header names are.
/// </summary>
internal static class VaultHeaders
{
    /// <summary>The prefix every Vault header shares.</summary>
    public const string Prefix = "X-Vault-";

    /// <summary>The client token.</summary>
    public const string Token = "X-Vault-Token";

    /// <summary>The namespace the request is made in.</summary>
    public const string Namespace = "X-Vault-Namespace";

    /// <summary>Asks Vault to wrap the answer for this long (a Go duration or seconds).</summary>
    public const string WrapTtl = "X-Vault-Wrap-TTL";

    /// <summary>The CSRF marker Vault's client sends and <c>require_request_header</c> asks for.</summary>
    public const string Request = "X-Vault-Request";

    /// <summary>The replication state a write returned, echoed on later requests (read-your-writes).</summary>
    public const string Index = "X-Vault-Index";

    /// <summary>Asks a standby to forward the request to the active node.</summary>
    public const string Forward = "X-Vault-Forward";

    /// <summary>What a node does when it has not caught up with <see cref="Index"/> (<c>forward-active-node</c>, <c>fail</c>).</summary>
    public const string Inconsistent = "X-Vault-Inconsistent";
}
