using Gatehouse.AutoAuth;
using Gatehouse.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>Waits on a fleet of hosts with the shared identity (<c>cache.shared</c> and auto-auth).</summary>
internal static class FleetWaits
{
    /// <summary>
    /// Waits (bounded) until <paramref name="condition"/> holds, re-checked on each role change and each published
    /// token of any of <paramref name="hosts"/>; fails with <paramref name="what"/> and every host's role.
    /// </summary>
    public static async Task UntilAsync(IReadOnlyList<GatehouseHost> hosts, Func<bool> condition, string what, TimeSpan bound)
    {
        using var changed = new SemaphoreSlim(0);
        Action<FleetRole> onRole = _ => changed.Release();
        Action<AutoAuthToken> onToken = _ => changed.Release();
        foreach (var host in hosts)
        {
            Fleet(host).RoleChanged += onRole;
            host.TokenStore.Published += onToken;
        }

        try
        {
            using var timeout = new CancellationTokenSource(bound);
            while (!condition())
            {
                try
                {
                    await changed.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"timed out waiting for {what}: roles {string.Join(", ", hosts.Select(h => Fleet(h).Role))}");
                }
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                Fleet(host).RoleChanged -= onRole;
                host.TokenStore.Published -= onToken;
            }
        }
    }

    public static FleetAuthService Fleet(GatehouseHost host) => host.Services.GetRequiredService<FleetAuthService>();
}
