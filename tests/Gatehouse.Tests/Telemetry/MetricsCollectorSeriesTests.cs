using Gatehouse.Telemetry;

namespace Gatehouse.Tests.Telemetry;

/// <summary>Which recordings share a series: the same labels in any order do; any other labels, whatever their text, do not.</summary>
public sealed class MetricsCollectorSeriesTests : IDisposable
{
    private readonly MetricsTestHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private IReadOnlyList<SeriesSnapshot> Series(string name) =>
        _harness.Collector.Collect().Instruments.Single(i => i.Name == name).Series;

    [Fact]
    public void SameLabelsInAnyOrder_AreOneSeries()
    {
        var counter = _harness.Meter.CreateCounter<long>("requests");
        counter.Add(1, new KeyValuePair<string, object?>("method", "GET"), new KeyValuePair<string, object?>("code", "200"));
        counter.Add(2, new KeyValuePair<string, object?>("code", "200"), new KeyValuePair<string, object?>("method", "GET"));
        counter.Add(4, new KeyValuePair<string, object?>("code", "503"), new KeyValuePair<string, object?>("method", "GET"));

        var series = Series("requests");
        Assert.Equal(2, series.Count);
        Assert.Equal(3, series.Single(s => s.Labels.Contains(new("code", "200"))).Value);
        Assert.Equal(4, series.Single(s => s.Labels.Contains(new("code", "503"))).Value);
    }

    [Fact]
    public void LabelsWhoseTextWouldJoinAlike_AreSeparateSeries()
    {
        // A key made by joining "name\0value\u0001" pairs read these two label sets as one series.
        var counter = _harness.Meter.CreateCounter<long>("joined");
        counter.Add(1, new KeyValuePair<string, object?>("a", "x\u0001b\u0000y"));
        counter.Add(10, new KeyValuePair<string, object?>("a", "x"), new KeyValuePair<string, object?>("b", "y"));

        var series = Series("joined");
        Assert.Equal(2, series.Count);
        Assert.Equal(1, series.Single(s => s.Labels.Count == 1).Value);
        Assert.Equal(10, series.Single(s => s.Labels.Count == 2).Value);
    }
}
