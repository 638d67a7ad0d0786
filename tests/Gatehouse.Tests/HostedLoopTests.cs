namespace Gatehouse.Tests;

public sealed class HostedLoopTests
{
    /// <summary>
    /// A host that fails to start disposes its services at once: a loop cancelled before it ran, or one that ends with
    /// the cancellation, has stopped, not failed. (BackgroundService's own task ends cancelled there, which the host
    /// logs at Error as a failed service.)
    /// </summary>
    [Fact]
    public async Task LoopCancelledByDispose_EndsAsStopped_NotCancelledOrFaulted()
    {
        for (var i = 0; i < 200; i++)
        {
            var loop = new CancelledLoop();
            await loop.StartAsync(CancellationToken.None);
            loop.Dispose();
            await loop.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            Assert.Equal(TaskStatus.RanToCompletion, loop.ExecuteTask!.Status);
        }
    }

    [Fact]
    public async Task LoopThatThrowsWhileRunning_FaultsItsTask_SoTheHostSeesIt()
    {
        var loop = new ThrowingLoop();
        await loop.StartAsync(CancellationToken.None);
        await loop.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        Assert.Equal(TaskStatus.Faulted, loop.ExecuteTask!.Status);
        await loop.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StopAsync_CancelsTheLoopAndWaitsForIt()
    {
        var loop = new CancelledLoop();
        await loop.StartAsync(CancellationToken.None);
        await loop.StopAsync(CancellationToken.None);
        Assert.Equal(TaskStatus.RanToCompletion, loop.ExecuteTask!.Status);
    }

    private sealed class CancelledLoop : HostedLoop
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);
    }

    private sealed class ThrowingLoop : HostedLoop
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => throw new InvalidOperationException("a bug");
    }
}
