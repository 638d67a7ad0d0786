using Gatehouse.AutoAuth;

namespace Gatehouse.Tests.AutoAuth;

public sealed class BackoffTests
{
    [Fact]
    public void Backoff_WithoutJitter_DoublesFromMinToMax()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), () => 0);
        var steps = Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 10, 10], steps);
    }

    [Fact]
    public void Backoff_WithFullJitter_TakesOffAQuarter()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(100), () => 0.999999999);
        Assert.Equal(3, Math.Round(backoff.Next().TotalSeconds, 3));
        Assert.Equal(6, Math.Round(backoff.Next().TotalSeconds, 3));
    }

    [Fact]
    public void Backoff_Reset_StartsAgainFromMin()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), () => 0);
        backoff.Next();
        backoff.Next();
        backoff.Reset();
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Next());
    }

    [Fact]
    public void Backoff_JitterNeverLengthensAStep()
    {
        var random = new Random(42);
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), random.NextDouble);
        var expected = TimeSpan.FromSeconds(1);
        for (var i = 0; i < 20; i++)
        {
            var step = backoff.Next();
            Assert.InRange(step, expected * 0.75, expected);
            expected = expected * 2 > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : expected * 2;
        }
    }

    [Fact]
    public void Backoff_MinAboveMax_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1)));
}
