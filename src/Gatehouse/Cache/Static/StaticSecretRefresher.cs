using Microsoft.Extensions.Hosting;

namespace Gatehouse.Cache.Static;

/// <summary>
/// Runs the static-secret cache's background passes on the injected clock: grants re-checked every
/// <c>static_secret_token_capability_refresh_interval</c>, entries revalidated every
/// <c>static_secret_refresh_interval</c> (unless 0), and the secrets Vault's event stream names revalidated as the
/// events arrive. A failed pass is logged and runs again at its next interval; it never stops the host.
/// </summary>
internal sealed class StaticSecretRefresher(StaticSecretCache cache, TimeProvider time) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>
        {
            EveryAsync(cache.Options.CapabilityRefresh, "capability refresh", cache.RefreshCapabilitiesAsync, stoppingToken),
            ChangesAsync(stoppingToken),
        };
        if (cache.Options.RefreshInterval > TimeSpan.Zero)
        {
            loops.Add(EveryAsync(cache.Options.RefreshInterval, "revalidation", ct => cache.RevalidateAsync(null, ct), stoppingToken));
        }

        return Task.WhenAll(loops);
    }

    private async Task EveryAsync(TimeSpan interval, string pass, Func<CancellationToken, Task> run, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await NextAsync(timer.WaitForNextTickAsync(stoppingToken)).ConfigureAwait(false))
        {
            await cache.RunPassAsync(pass, run, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ChangesAsync(CancellationToken stoppingToken)
    {
        while (await NextAsync(cache.Changed.WaitToReadAsync(stoppingToken)).ConfigureAwait(false))
        {
            while (cache.Changed.TryRead(out var target))
            {
                await cache.RunPassAsync("event", ct => cache.RevalidateAsync(target, ct), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>False once the host stops (a stop is not a failure of this service).</summary>
    private static async Task<bool> NextAsync(ValueTask<bool> wait)
    {
        try
        {
            return await wait.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
