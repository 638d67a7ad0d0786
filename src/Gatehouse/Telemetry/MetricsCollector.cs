using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Gatehouse.Telemetry;

/// <summary>How an instrument is exported.</summary>
internal enum MetricKind
{
    /// <summary>Monotonic: Counter&lt;T&gt;, ObservableCounter&lt;T&gt;.</summary>
    Counter,

    /// <summary>A current value: gauges and up-down counters.</summary>
    Gauge,

    /// <summary>Histogram&lt;T&gt;: buckets, sum and count (a "sample" in Vault's JSON).</summary>
    Histogram,
}

/// <summary>
/// Listens to every instrument of one <see cref="Meter"/> (by name, "Gatehouse" in the daemon) and aggregates what it
/// records, for the Prometheus and Vault-JSON writers. It knows no instrument by name: whatever Telemetry/ declares is
/// exported. Each label set is one series with its own small lock, so recordings on different series never contend;
/// an instrument holds at most <see cref="MaxSeriesPerInstrument"/> labelled series and counts the label sets it drops
/// (exported as <see cref="DroppedLabelSetsName"/>).
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    public const int DefaultMaxSeriesPerInstrument = 200;

    /// <summary>The synthetic counter of label sets dropped by the cardinality bound, labelled by instrument.</summary>
    public const string DroppedLabelSetsName = "vault.gatehouse.metrics.dropped_label_sets";

    /// <summary>Vault's in-memory sink aggregates in 10-second intervals; the JSON output shows the last finished one.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Used when a histogram has no bucket advice and its unit is not seconds (milliseconds, bytes, counts).</summary>
    public static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>Used when a histogram has no bucket advice and its unit is "s".</summary>
    public static readonly double[] DefaultSecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener;
    private readonly TimeProvider _time;
    private readonly string _meterName;
    private readonly long _startIntervalTicks;
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly InstrumentState _dropped;
    private readonly Lock _observeLock = new();
    private readonly object? _scope;
    private readonly bool _runtimeMetrics;

    /// <summary>The runtime's own meter (GC, heap, thread pool, exceptions, CPU time, working set).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <param name="scope">
    /// When set, only meters of this scope (the <see cref="IMeterFactory"/> that created them) are exported: several
    /// hosts in one process (tests) then never see each other's measurements.
    /// </param>
    /// <param name="runtimeMetrics">
    /// Also export .NET's runtime and process metrics (the process-wide <see cref="RuntimeMeterName"/> meter, names
    /// starting with <c>dotnet.</c>): the daemon sets it; tests that compare whole outputs leave it off.
    /// </param>
    public MetricsCollector(
        TimeProvider time, string meterName = GatehouseMetrics.MeterName, int maxSeriesPerInstrument = DefaultMaxSeriesPerInstrument, object? scope = null,
        bool runtimeMetrics = false)
    {
        _runtimeMetrics = runtimeMetrics;
        _scope = scope;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSeriesPerInstrument);
        _time = time;
        _meterName = meterName;
        MaxSeriesPerInstrument = maxSeriesPerInstrument;
        _startIntervalTicks = IntervalStart(time.GetUtcNow().UtcTicks);
        _dropped = new InstrumentState(
            DroppedLabelSetsName, "{label_set}", "Label sets dropped because an instrument reached its series limit.",
            MetricKind.Counter, isObservable: false, isUpDown: false, bounds: null, maxSeries: int.MaxValue);

        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _),
        };
        _listener.SetMeasurementEventCallback<byte>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<short>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<float>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<decimal>((i, v, t, s) => Record(s, (double)v, t));
        _listener.Start();
    }

    public int MaxSeriesPerInstrument { get; }

    public string MeterName => _meterName;

    /// <summary>Observes the observable instruments, then copies every series. Safe to call concurrently with recordings.</summary>
    public MetricsSnapshot Collect()
    {
        // One observation at a time: observable counters turn cumulative values into interval deltas.
        lock (_observeLock)
        {
            _listener.RecordObservableInstruments();
        }

        var now = _time.GetUtcNow();
        long current = IntervalStart(now.UtcTicks);
        long shown = current == _startIntervalTicks ? current : current - Interval.Ticks;

        var instruments = new List<InstrumentSnapshot>(_instruments.Count + 1);
        foreach (var state in _instruments.Values)
        {
            instruments.Add(state.Snapshot(shown));
        }

        if (_dropped.HasSeries)
        {
            instruments.Add(_dropped.Snapshot(shown));
        }

        instruments.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new MetricsSnapshot(now, new DateTimeOffset(shown, TimeSpan.Zero), instruments);
    }

    public void Dispose() => _listener.Dispose();

    private static long IntervalStart(long utcTicks) => utcTicks - (utcTicks % Interval.Ticks);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        bool ours = string.Equals(instrument.Meter.Name, _meterName, StringComparison.Ordinal)
            && (_scope is null || ReferenceEquals(instrument.Meter.Scope, _scope));
        bool runtime = _runtimeMetrics && string.Equals(instrument.Meter.Name, RuntimeMeterName, StringComparison.Ordinal);
        if (!ours && !runtime)
        {
            return;
        }

        var (kind, observable, upDown) = Classify(instrument);
        var state = new InstrumentState(
            instrument.Name, instrument.Unit, instrument.Description, kind, observable, upDown,
            kind == MetricKind.Histogram ? BucketsFor(instrument) : null, MaxSeriesPerInstrument);
        _instruments[instrument] = state;
        listener.EnableMeasurementEvents(instrument, state);
    }

    private static (MetricKind Kind, bool Observable, bool UpDown) Classify(Instrument instrument)
    {
        var type = instrument.GetType();
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (definition == typeof(Counter<>))
        {
            return (MetricKind.Counter, false, false);
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return (MetricKind.Counter, true, false);
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return (MetricKind.Gauge, false, true);
        }

        if (definition == typeof(Histogram<>))
        {
            return (MetricKind.Histogram, false, false);
        }

        // Gauge<T>, ObservableGauge<T>, ObservableUpDownCounter<T>: the latest value is the value.
        return (MetricKind.Gauge, instrument.IsObservable, false);
    }

    private static double[] BucketsFor(Instrument instrument)
    {
        double[]? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b).ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b).ToArray(),
            _ => null,
        };
        if (advised is { Length: > 0 })
        {
            Array.Sort(advised);
            return advised;
        }

        return instrument.Unit == "s" ? DefaultSecondsBuckets : DefaultBuckets;
    }

    private void Record(object? stateObject, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (stateObject is not InstrumentState state)
        {
            return;
        }

        var series = state.GetSeries(tags);
        if (series is null)
        {
            var dropSeries = _dropped.GetSeries([new KeyValuePair<string, object?>("instrument", state.Name)]);
            dropSeries?.Record(MetricKind.Counter, isObservable: false, isUpDown: false, 1, _time.GetUtcNow().UtcTicks, null);
            return;
        }

        series.Record(state.Kind, state.IsObservable, state.IsUpDown, value, _time.GetUtcNow().UtcTicks, state.Bounds);
    }

    /// <summary>One instrument and its series.</summary>
    private sealed class InstrumentState(
        string name, string? unit, string? description, MetricKind kind, bool isObservable, bool isUpDown, double[]? bounds, int maxSeries)
    {
        private readonly ConcurrentDictionary<LabelKey, Series> _series = new();
        private readonly Series _unlabelled = new([], bounds);
        private readonly Lock _addLock = new();

        public string Name { get; } = name;

        public MetricKind Kind { get; } = kind;

        public bool IsObservable { get; } = isObservable;

        public bool IsUpDown { get; } = isUpDown;

        public double[]? Bounds { get; } = bounds;

        public bool HasSeries => _unlabelled.HasValue || !_series.IsEmpty;

        public Series? GetSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.IsEmpty)
            {
                return _unlabelled;
            }

            var labels = new KeyValuePair<string, string>[tags.Length];
            for (int i = 0; i < tags.Length; i++)
            {
                labels[i] = new(tags[i].Key, Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            }

            // The same labels in any order are the same series.
            if (labels.Length > 1)
            {
                Array.Sort(labels, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            }

            var key = new LabelKey(labels);
            if (_series.TryGetValue(key, out var existing))
            {
                return existing;
            }

            lock (_addLock)
            {
                if (_series.TryGetValue(key, out existing))
                {
                    return existing;
                }

                if (_series.Count >= maxSeries)
                {
                    return null;
                }

                var created = new Series(labels, Bounds);
                _series[key] = created;
                return created;
            }
        }

        /// <summary>
        /// A series' labels (sorted by key) compared by content: the dictionary key. Every recording with labels looks
        /// its series up, so no string is built for it (a joined string key cost a StringBuilder and a string per
        /// recording, about 1% of the proxy's CPU in the issue-15 profile).
        /// </summary>
        private readonly struct LabelKey(KeyValuePair<string, string>[] labels) : IEquatable<LabelKey>
        {
            private readonly KeyValuePair<string, string>[] _labels = labels;

            public bool Equals(LabelKey other)
            {
                var a = _labels;
                var b = other._labels;
                if (a.Length != b.Length)
                {
                    return false;
                }

                for (int i = 0; i < a.Length; i++)
                {
                    if (!string.Equals(a[i].Key, b[i].Key, StringComparison.Ordinal) || !string.Equals(a[i].Value, b[i].Value, StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }

            public override bool Equals(object? obj) => obj is LabelKey other && Equals(other);

            public override int GetHashCode()
            {
                var hash = new HashCode();
                foreach (var (key, value) in _labels)
                {
                    hash.Add(key, StringComparer.Ordinal);
                    hash.Add(value, StringComparer.Ordinal);
                }

                return hash.ToHashCode();
            }
        }

        public InstrumentSnapshot Snapshot(long shownIntervalTicks)
        {
            var list = new List<SeriesSnapshot>(_series.Count + 1);
            if (_unlabelled.HasValue)
            {
                list.Add(_unlabelled.Snapshot(shownIntervalTicks));
            }

            foreach (var series in _series.Values)
            {
                if (series.HasValue)
                {
                    list.Add(series.Snapshot(shownIntervalTicks));
                }
            }

            list.Sort(static (a, b) => CompareLabels(a.Labels, b.Labels));
            return new InstrumentSnapshot(Name, unit, description, Kind, Bounds, list);
        }

        private static int CompareLabels(IReadOnlyList<KeyValuePair<string, string>> a, IReadOnlyList<KeyValuePair<string, string>> b)
        {
            for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                int c = string.CompareOrdinal(a[i].Key, b[i].Key);
                if (c == 0)
                {
                    c = string.CompareOrdinal(a[i].Value, b[i].Value);
                }

                if (c != 0)
                {
                    return c;
                }
            }

            return a.Count.CompareTo(b.Count);
        }
    }

    /// <summary>One label set: the cumulative value (Prometheus) and the current and previous 10-second intervals (JSON).</summary>
    private sealed class Series(KeyValuePair<string, string>[] labels, double[]? bounds)
    {
        private readonly Lock _lock = new();
        private readonly long[]? _buckets = bounds is null ? null : new long[bounds.Length + 1];
        private bool _hasValue;
        private double _value;
        private double? _lastObserved;
        private long _count;
        private double _sum;
        private long _lastUpdatedTicks;
        private IntervalStats _current;
        private IntervalStats _previous;

        public bool HasValue => Volatile.Read(ref _hasValue);

        public void Record(MetricKind kind, bool isObservable, bool isUpDown, double value, long nowTicks, double[]? bucketBounds)
        {
            lock (_lock)
            {
                _hasValue = true;
                _lastUpdatedTicks = nowTicks;
                switch (kind)
                {
                    case MetricKind.Counter when isObservable:
                        // Observable counters report the running total; the interval sees the increase.
                        double delta = _lastObserved is { } last && value >= last ? value - last : (_lastObserved is null ? value : 0);
                        _lastObserved = value;
                        _value = value;
                        if (delta > 0)
                        {
                            Ingest(delta, nowTicks);
                        }

                        break;
                    case MetricKind.Counter:
                        // Adding zero only makes the series exist (GatehouseMetrics' failure series): no interval sample.
                        _value += value;
                        if (value != 0)
                        {
                            Ingest(value, nowTicks);
                        }

                        break;
                    case MetricKind.Gauge when isUpDown:
                        _value += value;
                        break;
                    case MetricKind.Gauge:
                        _value = value;
                        break;
                    case MetricKind.Histogram:
                        _count++;
                        _sum += value;
                        int index = Array.BinarySearch(bucketBounds!, value);
                        // Prometheus buckets are upper-inclusive: a value equal to a bound counts in that bucket.
                        _buckets![index >= 0 ? index : ~index]++;
                        Ingest(value, nowTicks);
                        break;
                }
            }
        }

        private void Ingest(double value, long nowTicks)
        {
            long start = IntervalStart(nowTicks);
            if (_current.StartTicks != start)
            {
                _previous = _current;
                _current = new IntervalStats { StartTicks = start };
            }

            _current = _current.Add(value);
        }

        public SeriesSnapshot Snapshot(long shownIntervalTicks)
        {
            lock (_lock)
            {
                IntervalStats? shown = _current.StartTicks == shownIntervalTicks && _current.Count > 0 ? _current
                    : _previous.StartTicks == shownIntervalTicks && _previous.Count > 0 ? _previous
                    : null;
                return new SeriesSnapshot(
                    labels, _value, _count, _sum, _buckets?.ToArray(), shown,
                    new DateTimeOffset(_lastUpdatedTicks, TimeSpan.Zero));
            }
        }
    }
}

/// <summary>Everything the collector holds at one moment, instruments sorted by name.</summary>
/// <param name="Timestamp">When it was collected.</param>
/// <param name="IntervalStart">The start of the 10-second interval the JSON output shows.</param>
internal sealed record MetricsSnapshot(DateTimeOffset Timestamp, DateTimeOffset IntervalStart, IReadOnlyList<InstrumentSnapshot> Instruments);

/// <param name="Bounds">Histogram bucket upper bounds (ascending, without +Inf); null for other kinds.</param>
internal sealed record InstrumentSnapshot(
    string Name, string? Unit, string? Description, MetricKind Kind, IReadOnlyList<double>? Bounds, IReadOnlyList<SeriesSnapshot> Series);

/// <param name="Value">Counter total or gauge value.</param>
/// <param name="Count">Histogram: observations.</param>
/// <param name="Sum">Histogram: sum of observations.</param>
/// <param name="BucketCounts">Histogram: per-bucket (not cumulative) counts, the last one for +Inf.</param>
/// <param name="Interval">Counters and histograms: the shown 10-second interval, or null when nothing was recorded in it.</param>
internal sealed record SeriesSnapshot(
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    double Value,
    long Count,
    double Sum,
    IReadOnlyList<long>? BucketCounts,
    IntervalStats? Interval,
    DateTimeOffset LastUpdated);

/// <summary>go-metrics' AggregateSample: what one series saw in one interval.</summary>
internal readonly record struct IntervalStats
{
    public long StartTicks { get; init; }

    public long Count { get; init; }

    public double Sum { get; init; }

    public double SumSquares { get; init; }

    public double Min { get; init; }

    public double Max { get; init; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>As go-metrics computes it: sqrt((n·Σx² − (Σx)²) / (n·(n−1))), 0 for fewer than two values.</summary>
    public double Stddev
    {
        get
        {
            double divisor = Count * (Count - 1.0);
            return divisor == 0 ? 0 : Math.Sqrt(((Count * SumSquares) - (Sum * Sum)) / divisor);
        }
    }

    /// <summary>Sum per second over the interval, as go-metrics' Rate.</summary>
    public double Rate => Sum / MetricsCollector.Interval.TotalSeconds;

    public IntervalStats Add(double value) => this with
    {
        Count = Count + 1,
        Sum = Sum + value,
        SumSquares = SumSquares + (value * value),
        Min = Count == 0 || value < Min ? value : Min,
        Max = Count == 0 || value > Max ? value : Max,
    };
}
