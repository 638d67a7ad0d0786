using Gatehouse.ApiProxy;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.ApiProxy;

public sealed class UpstreamLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task UnderTheBound_ATurnIsGivenAtOnce_AndCounted()
    {
        using var limiter = new UpstreamLimiter(2, TimeSpan.FromSeconds(5), _time);

        using var first = await limiter.AcquireAsync(CancellationToken.None);
        using var second = await limiter.AcquireAsync(CancellationToken.None);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal((2, 0), (limiter.Active, limiter.Queued));
    }

    [Fact]
    public async Task AtTheBound_TurnsGoOldestFirst_AsTurnsAreGivenBack()
    {
        using var limiter = new UpstreamLimiter(1, TimeSpan.FromSeconds(5), _time);
        var held = await limiter.AcquireAsync(CancellationToken.None);
        var b = limiter.AcquireAsync(CancellationToken.None).AsTask();
        var c = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.Equal(2, limiter.Queued);

        held!.Dispose();
        var bTurn = await b;
        Assert.False(c.IsCompleted);
        bTurn!.Dispose();
        (await c)!.Dispose();

        Assert.Equal((0, 0), (limiter.Active, limiter.Queued));
    }

    [Fact]
    public async Task AWaitPastTheQueueTimeout_GetsNoTurn_AndLeavesTheQueue()
    {
        using var limiter = new UpstreamLimiter(1, TimeSpan.FromSeconds(5), _time);
        using var held = await limiter.AcquireAsync(CancellationToken.None);
        var waiting = limiter.AcquireAsync(CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Null(await waiting);
        Assert.Equal(0, limiter.Queued);
        Assert.Equal(
            "too many requests waiting for Vault: this one waited 5s for one of the 1 upstream request slots (api_proxy.max_upstream_requests) and was not sent; retry after 2s",
            limiter.ShedFailure.Message);
        Assert.Equal(ProxyFailureKind.Overloaded, limiter.ShedFailure.Kind);
    }

    [Fact]
    public async Task AClientThatGoesAway_LeavesTheQueue_WithCancellation()
    {
        using var limiter = new UpstreamLimiter(1, TimeSpan.FromSeconds(5), _time);
        using var held = await limiter.AcquireAsync(CancellationToken.None);
        using var gone = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(gone.Token).AsTask();

        await gone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, limiter.Queued);
    }

    [Fact]
    public void ShedAnswer_Is503WithRetryAfter() =>
        Assert.Equal(503, ProxyErrorWriter.StatusCodeFor(ProxyFailureKind.Overloaded));
}
