using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The log lines for proxied requests Gatehouse itself failed (Vault unreachable, a broken connection, a timeout, a
/// request shed under overload), at most one per kind per interval. In an outage every request fails the same way,
/// thousands a second; a line each would bury everything else in the log and cost more than the proxying. So the first
/// failure of a kind is logged at once, in full; the ones after it are counted, and at the end of each interval one
/// line says how many there were (<c>502 cannot reach Vault: 10934 more requests in the last 5s; the latest: …</c>).
/// An interval with none closes the window: the next failure of that kind is logged at once again.
/// </summary>
internal sealed partial class UpstreamFailureLog : IDisposable
{
    /// <summary>How long failures of one kind are counted before their line is written. The default is 5 seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private readonly ILogger<UpstreamFailureLog> _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly string _intervalText;
    private readonly Window[] _windows;

    public UpstreamFailureLog(ILogger<UpstreamFailureLog> logger, TimeProvider time, TimeSpan? interval = null)
    {
        _logger = logger;
        _time = time;
        _interval = interval ?? DefaultInterval;
        _intervalText = EffectiveConfigJson.GoDuration(_interval);
        _windows = new Window[Enum.GetValues<ProxyFailureKind>().Length];
        for (var i = 0; i < _windows.Length; i++)
        {
            _windows[i] = new Window(this, (ProxyFailureKind)i);
        }
    }

    /// <summary>The kinds logged here: the upstream's failures and shedding. Others are the client's and stay at Debug.</summary>
    public static bool IsLogged(ProxyFailureKind kind) =>
        kind is ProxyFailureKind.UpstreamUnreachable or ProxyFailureKind.UpstreamFailed or ProxyFailureKind.UpstreamTimeout
            or ProxyFailureKind.Overloaded;

    /// <summary>One proxied request failed: logged now when it opens a window, else counted for the window's line.</summary>
    public void Report(ProxyFailure failure)
    {
        if (!IsLogged(failure.Kind) || !_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        if (_windows[(int)failure.Kind].Add(failure.Message))
        {
            Log.Failed(_logger, ProxyErrorWriter.StatusCodeFor(failure.Kind), failure.Message, _intervalText);
        }
    }

    public void Dispose()
    {
        foreach (var window in _windows)
        {
            window.Dispose();
        }
    }

    /// <summary>Short words for a kind, for the counted line.</summary>
    private static string Describe(ProxyFailureKind kind) => kind switch
    {
        ProxyFailureKind.UpstreamUnreachable => "cannot reach Vault",
        ProxyFailureKind.UpstreamFailed => "the request to Vault failed",
        ProxyFailureKind.UpstreamTimeout => "Vault did not answer in time",
        ProxyFailureKind.Overloaded => "shed: too many requests waiting for Vault",
        _ => kind.ToString(),
    };

    /// <summary>
    /// One kind's window. Open from its first failure; at each interval's end its timer writes the count and keeps it
    /// open, or closes it when nothing came. The lock is held only to count; lines are written outside it.
    /// </summary>
    private sealed class Window : IDisposable
    {
        private readonly UpstreamFailureLog _owner;
        private readonly ProxyFailureKind _kind;
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private bool _open;
        private long _count;
        private string _latest = "";

        public Window(UpstreamFailureLog owner, ProxyFailureKind kind)
        {
            _owner = owner;
            _kind = kind;
        }

        /// <summary>Counts a failure; true when it opened the window (the caller logs it in full).</summary>
        public bool Add(string message)
        {
            lock (_lock)
            {
                if (_open)
                {
                    _count++;
                    _latest = message;
                    return false;
                }

                _open = true;
                _timer ??= _owner._time.CreateTimer(static state => ((Window)state!).IntervalEnded(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timer.Change(_owner._interval, Timeout.InfiniteTimeSpan);
                return true;
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _timer?.Dispose();
                _timer = null;
                _open = false;
            }
        }

        private void IntervalEnded()
        {
            long count;
            string latest;
            lock (_lock)
            {
                count = _count;
                latest = _latest;
                _count = 0;
                _open = count > 0 && _timer is not null;
                if (_open)
                {
                    _timer!.Change(_owner._interval, Timeout.InfiniteTimeSpan);
                }
            }

            if (count > 0)
            {
                Log.Counted(_owner._logger, ProxyErrorWriter.StatusCodeFor(_kind), Describe(_kind), count, _owner._intervalText, latest);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Status} {Failure} (further failures of this kind are counted and logged every {Interval})")]
        public static partial void Failed(ILogger logger, int status, string failure, string interval);

        [LoggerMessage(2, LogLevel.Warning, "{Status} {Kind}: {Count} more requests in the last {Interval}; the latest: {Failure}")]
        public static partial void Counted(ILogger logger, int status, string kind, long count, string interval, string failure);
    }
}
