using BenchmarkDotNet.Attributes;
using Gatehouse.ApiProxy;

namespace Gatehouse.Benchmarks;

/// <summary>
/// What the bound on upstream requests adds to every proxied attempt when there is room: take a turn and give it back
/// (<see cref="UpstreamLimiter"/> over <c>ConcurrencyLimiter</c>: a lock and one lease object each way).
/// </summary>
[MemoryDiagnoser]
public class UpstreamLimiterBenchmarks
{
    private readonly UpstreamLimiter _limiter = new(256, TimeSpan.FromSeconds(5), TimeProvider.System);

    [Benchmark]
    public async ValueTask TakeAndGiveBackATurn()
    {
        using var turn = await _limiter.AcquireAsync(CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup() => _limiter.Dispose();
}
