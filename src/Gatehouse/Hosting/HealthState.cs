using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;

namespace Gatehouse.Hosting;

/// <summary>The daemon's health inputs: the token store (when auto-auth is on), reachability, an optional cache count.</summary>
internal sealed class HealthState(TokenStore? tokens, VaultReachability vault, Func<int>? cacheEntries = null) : IHealthState
{
    public bool AutoAuthConfigured => tokens is not null;

    public HealthToken? Token => tokens?.Current is { } token ? new HealthToken(token.ObtainedAt, token.ExpiresAt) : null;

    public int? CacheEntries => cacheEntries?.Invoke();

    public VaultReachability Vault => vault;
}
