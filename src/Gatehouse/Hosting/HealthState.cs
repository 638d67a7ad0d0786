using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;

namespace Gatehouse.Hosting;

/// <summary>
/// The daemon's health inputs: the token store (when auto-auth is on), reachability, an optional cache count, and the
/// host's stopping token (a graceful stop has begun once it is cancelled), and the shared store's state when there is one.
/// </summary>
internal sealed class HealthState(
    TokenStore? tokens, VaultReachability vault, Func<int>? cacheEntries = null, Func<HealthShared>? shared = null,
    CancellationToken stopping = default) : IHealthState
{
    public bool AutoAuthConfigured => tokens is not null;

    public HealthToken? Token => tokens?.Current is { } token ? new HealthToken(token.ObtainedAt, token.ExpiresAt) : null;

    public int? CacheEntries => cacheEntries?.Invoke();

    public bool ShuttingDown => stopping.IsCancellationRequested;

    public VaultReachability Vault => vault;

    public HealthShared? Shared => shared?.Invoke();
}
