using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.Channels;

namespace Gatehouse.Telemetry;

/// <summary>
/// Sends every metric to the push sinks (statsd, statsite, dogstatsd) the way Vault's go-metrics does: each counter
/// increment and each histogram sample is one line (go-metrics sends every <c>IncrCounter</c> and <c>AddSample</c>), and
/// gauges, which Gatehouse observes rather than sets, are read from the <see cref="MetricsCollector"/> every
/// <see cref="GaugeInterval"/> and sent as <c>|g</c> lines.
/// <para>
/// On the recording thread a measurement is only copied into a bounded queue (<see cref="QueueCapacity"/>, go-metrics'
/// own bound; when full, measurements are dropped and counted): no formatting, no I/O, no lock held by the network. A
/// timer on the injected <see cref="TimeProvider"/> drains the queue every <see cref="FlushInterval"/> (go-metrics'
/// 100 ms), formats the lines and closes each sink's packet; each <see cref="PushSink"/> sends on its own loop.
/// </para>
/// Names are the dotted exported names (<c>metrics_prefix</c>, host name segment for gauges) and pass the
/// <c>prefix_filter</c>; histograms whose unit is seconds are sent in milliseconds, as go-metrics' timers are.
/// </summary>
internal sealed class MetricsPusher : IDisposable
{
    /// <summary>go-metrics' <c>metricQueueSize</c>.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>go-metrics' statsd and statsite <c>flushInterval</c>, and datadog-go's buffer flush interval.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often gauges are read and sent: the in-memory sink's interval.</summary>
    public static readonly TimeSpan GaugeInterval = MetricsCollector.Interval;

    private readonly TimeProvider _time;
    private readonly MetricsOptions _options;
    private readonly MetricsCollector _collector;
    private readonly IReadOnlyList<PushSink> _sinks;
    private readonly string _meterName;
    private readonly object? _scope;
    private readonly MeterListener _listener;
    private readonly Channel<Pending> _pending;
    private readonly Lock _flushLock = new();
    private readonly ITimer _timer;
    private DateTimeOffset _nextGauges;
    private long _dropped;
    private bool _disposed;

    public MetricsPusher(
        TimeProvider time, MetricsOptions options, MetricsCollector collector, IReadOnlyList<PushSink> sinks, object? scope = null)
    {
        _time = time;
        _options = options;
        _collector = collector;
        _sinks = sinks;
        _meterName = collector.MeterName;
        _scope = scope;
        _pending = Channel.CreateBounded<Pending>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        _listener.SetMeasurementEventCallback<int>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<float>((i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, s) => Record(s, v, t));
        _listener.Start();
        _nextGauges = time.GetUtcNow() + GaugeInterval;
        _timer = time.CreateTimer(static state => ((MetricsPusher)state!).Flush(), this, FlushInterval, FlushInterval);
    }

    public IReadOnlyList<PushSink> Sinks => _sinks;

    /// <summary>Measurements dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Formats what was recorded since the last flush (and the gauges when their interval has passed) and closes each
    /// sink's packet. The timer calls it; one flush runs at a time.
    /// </summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            if (_disposed)
            {
                return;
            }

            Span<KeyValuePair<string, string>> labels = new KeyValuePair<string, string>[8];
            while (_pending.Reader.TryRead(out var item))
            {
                int count = item.CopyLabels(ref labels);
                double value = item.Value * item.Instrument.Factor;
                foreach (var sink in _sinks)
                {
                    string name = item.Instrument.ExportedName;
                    sink.Append(StatsdFormat.Line(
                        sink.Protocol, name, labels[..count], _options.HostLabel, value, item.Instrument.Kind, _options.DogstatsdTags));
                }
            }

            if (_time.GetUtcNow() >= _nextGauges)
            {
                _nextGauges = _time.GetUtcNow() + GaugeInterval;
                AppendGauges();
            }

            foreach (var sink in _sinks)
            {
                sink.ClosePacket();
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _listener.Dispose();
        Flush();
        lock (_flushLock)
        {
            _disposed = true;
        }

        foreach (var sink in _sinks)
        {
            sink.Complete();
        }
    }

    private void AppendGauges()
    {
        foreach (var instrument in _collector.Collect().Instruments)
        {
            if (instrument.Kind != MetricKind.Gauge)
            {
                continue;
            }

            string name = _options.ExportName(instrument.Name, MetricKind.Gauge);
            if (!_options.Allows(name))
            {
                continue;
            }

            // go-metrics' dogstatsd sink takes the host name segment out of the name (datadog tags the host itself).
            string dogName = _options.ExportName(instrument.Name, MetricKind.Gauge, withHostName: false);
            foreach (var series in instrument.Series)
            {
                var labels = series.Labels.ToArray();
                foreach (var sink in _sinks)
                {
                    sink.Append(StatsdFormat.Line(
                        sink.Protocol, sink.Protocol == PushProtocol.Dogstatsd ? dogName : name, labels, _options.HostLabel,
                        series.Value, MetricKind.Gauge, _options.DogstatsdTags));
                }
            }
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!string.Equals(instrument.Meter.Name, _meterName, StringComparison.Ordinal)
            || (_scope is not null && !ReferenceEquals(instrument.Meter.Scope, _scope)))
        {
            return;
        }

        // Counters and histograms are sent as they are recorded; gauges (and up-down counters) at each gauge interval.
        var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
        MetricKind kind;
        if (definition == typeof(Counter<>))
        {
            kind = MetricKind.Counter;
        }
        else if (definition == typeof(Histogram<>))
        {
            kind = MetricKind.Histogram;
        }
        else
        {
            return;
        }

        string name = _options.ExportName(instrument.Name, kind);
        if (!_options.Allows(name))
        {
            return;
        }

        // go-metrics' timers are milliseconds; an instrument in seconds is scaled on the way out.
        double factor = kind == MetricKind.Histogram && instrument.Unit == "s" ? 1000 : 1;
        listener.EnableMeasurementEvents(instrument, new PushInstrument(name, kind, factor));
    }

    private void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A counter of zero is how GatehouseMetrics makes a series exist; go-metrics would send nothing either.
        if (state is not PushInstrument instrument || (instrument.Kind == MetricKind.Counter && value == 0))
        {
            return;
        }

        _pending.Writer.TryWrite(new Pending(instrument, value, tags));
    }

    private sealed record PushInstrument(string ExportedName, MetricKind Kind, double Factor);

    /// <summary>One measurement, its first two tags held inline so that recording allocates nothing.</summary>
    private readonly struct Pending
    {
        private readonly KeyValuePair<string, object?> _tag0;
        private readonly KeyValuePair<string, object?> _tag1;
        private readonly KeyValuePair<string, object?>[]? _more;
        private readonly int _count;

        public Pending(PushInstrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Instrument = instrument;
            Value = value;
            _count = tags.Length;
            if (tags.Length > 0)
            {
                _tag0 = tags[0];
            }

            if (tags.Length > 1)
            {
                _tag1 = tags[1];
            }

            if (tags.Length > 2)
            {
                _more = tags[2..].ToArray();
            }
        }

        public PushInstrument Instrument { get; }

        public double Value { get; }

        public int CopyLabels(ref Span<KeyValuePair<string, string>> labels)
        {
            if (labels.Length < _count)
            {
                labels = new KeyValuePair<string, string>[_count];
            }

            for (int i = 0; i < _count; i++)
            {
                var tag = i == 0 ? _tag0 : i == 1 ? _tag1 : _more![i - 2];
                labels[i] = new(tag.Key, Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "");
            }

            return _count;
        }
    }
}
