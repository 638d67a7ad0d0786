using Gatehouse.AutoAuth;

namespace Gatehouse.Telemetry;

/// <summary>What the health endpoint reads. The daemon uses <see cref="HealthState"/>; tests use their own.</summary>
internal interface IHealthState
{
    /// <summary>True when an <c>auto_auth</c> block is configured: then health needs a valid token.</summary>
    bool AutoAuthConfigured { get; }

    /// <summary>The current auto-auth token, or null.</summary>
    AutoAuthToken? Token { get; }

    /// <summary>Entries in the lease cache, or null when there is no cache.</summary>
    int? CacheEntries { get; }

    VaultReachability Vault { get; }
}

/// <summary>The daemon's health inputs: the token store (when auto-auth is on), reachability, an optional cache count.</summary>
internal sealed class HealthState(TokenStore? tokens, VaultReachability vault, Func<int>? cacheEntries = null) : IHealthState
{
    public bool AutoAuthConfigured => tokens is not null;

    public AutoAuthToken? Token => tokens?.Current;

    public int? CacheEntries => cacheEntries?.Invoke();

    public VaultReachability Vault => vault;
}
