using Microsoft.Extensions.Hosting;

namespace Gatehouse.Telemetry;

/// <summary>Runs each push sink's send loop for the life of the host; at stop, the last flush goes out before the loops end.</summary>
internal sealed class MetricsPushService(MetricsPusher pusher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(pusher.Sinks.Select(sink => sink.RunAsync(stoppingToken)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Flushes what is queued and completes each sink: the loops send what is left, then end.
        pusher.Dispose();
        if (ExecuteTask is { } running)
        {
            await running.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
