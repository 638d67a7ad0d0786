using Microsoft.Extensions.Hosting;

namespace Gatehouse;

/// <summary>
/// A <see cref="BackgroundService"/> whose loop never ends as a cancelled task. Since .NET 10,
/// <see cref="BackgroundService.StartAsync"/> starts <c>ExecuteAsync</c> with <c>Task.Run(…, stoppingToken)</c>: when
/// the host fails to start (a listener that cannot bind, say) and cancels that token before the thread pool has run
/// the loop, the task ends cancelled without ever running, and the host, which has not been asked to stop, logs
/// <c>BackgroundService failed: TaskCanceledException</c> at Error beside the real cause. Here the loop is started
/// without the token, and a cancellation while stopping is a normal end; any other exception still faults
/// <see cref="ExecuteTask"/>, which the host watches as it watches every background service.
/// </summary>
internal abstract class HostedLoop : BackgroundService
{
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public override Task? ExecuteTask => _loop;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = new CancellationTokenSource();
        var token = _stopping.Token;
        _loop = Task.Run(() => RunLoopAsync(token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        await _stopping!.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public override void Dispose()
    {
        try
        {
            _stopping?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed twice.
        }

        _stopping?.Dispose();
        base.Dispose();
    }

    private async Task RunLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ExecuteAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping is not failing.
        }
    }
}
