using Microsoft.Extensions.Hosting;

namespace Gatehouse.Shared;

/// <summary>
/// Starts the shared store's connection with the host without holding start-up back (Redis being away must not keep
/// a replica from serving), and closes it at stop.
/// </summary>
internal sealed class SharedStoreConnector(SharedStore store) : IHostedService
{
    private Task? _connecting;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _connecting = store.ConnectAsync(CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_connecting is not null)
            await _connecting.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await store.DisposeAsync().ConfigureAwait(false);
    }
}
