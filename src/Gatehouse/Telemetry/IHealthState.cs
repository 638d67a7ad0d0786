namespace Gatehouse.Telemetry;

/// <summary>
/// What the health endpoint reads. The daemon's implementation (<c>Hosting/HealthState</c>) reads the token store;
/// Telemetry itself depends on no feature folder, so the token arrives here as a <see cref="HealthToken"/>.
/// </summary>
internal interface IHealthState
{
    /// <summary>True when an <c>auto_auth</c> block is configured: then readiness needs a valid token.</summary>
    bool AutoAuthConfigured { get; }

    /// <summary>The current auto-auth token as health sees it, or null when there is none.</summary>
    HealthToken? Token { get; }

    /// <summary>Entries in the lease cache, or null when there is no cache.</summary>
    int? CacheEntries { get; }

    /// <summary>True once the host has begun a graceful stop: readiness turns 503 so that load balancers drain it.</summary>
    bool ShuttingDown { get; }

    VaultReachability Vault { get; }

    /// <summary>The shared store (<c>cache.shared</c>) as health reports it, or null when none is configured. Never counts for readiness.</summary>
    HealthShared? Shared => null;
}

/// <summary>The shared store's state for health: whether it answers, and its address (never a credential).</summary>
internal readonly record struct HealthShared(bool Up, string Address);

/// <summary>The part of the current auto-auth token that health reports: when it was obtained and when it expires (null: never).</summary>
internal readonly record struct HealthToken(DateTimeOffset ObtainedAt, DateTimeOffset? ExpiresAt);
