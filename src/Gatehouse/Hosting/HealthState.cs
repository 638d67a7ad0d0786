using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;

namespace Gatehouse.Hosting;

/// <summary>
/// The daemon's health inputs: the token store (when auto-auth is on), reachability, an optional cache count, and the
/// host's stopping token (a graceful stop has begun once it is cancelled).
/// </summary>
internal sealed class HealthState(
    TokenStore? tokens, VaultReachability vault, Func<int>? cacheEntries = null, CancellationToken stopping = default) : IHealthState
{
    public bool AutoAuthConfigured => tokens is not null;

    public HealthToken? Token => tokens?.Current is { } token ? new HealthToken(token.ObtainedAt, token.ExpiresAt) : null;

    public int? CacheEntries => cacheEntries?.Invoke();

    public bool ShuttingDown => stopping.IsCancellationRequested;

    public VaultReachability Vault => vault;
}
