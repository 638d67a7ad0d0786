using System.Text;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>
/// Writes each entry as one hclog-style line to the console writer and, when configured, the rotating log file
/// (Vault writes to both). Writes are synchronous under one lock so lines never interleave and a crash loses nothing;
/// at the default Info level Gatehouse logs no per-request lines, so this is off the hot path.
/// </summary>
internal sealed class GatehouseLoggerProvider : ILoggerProvider
{
    private readonly Lock _writeLock = new();
    private readonly TextWriter? _console;
    private readonly LogFile? _file;
    private readonly LogFormat _format;
    private readonly TimeProvider _time;
    private readonly LogLevelSwitch _switch;
    private readonly string _root;

    /// <param name="root">The root module: <c>proxy</c> or <c>agent</c>, as Vault names its logger (see <see cref="LogModules"/>).</param>
    public GatehouseLoggerProvider(LogLevelSwitch levelSwitch, LogFormat format, TextWriter? console, LogFile? file, TimeProvider time, string root = "proxy")
    {
        _switch = levelSwitch;
        _root = root;
        _format = format;
        _console = console;
        _file = file;
        _time = time;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName, LogModules.For(categoryName, _root));

    public void Dispose()
    {
        lock (_writeLock)
        {
            _console?.Flush();
            _file?.Dispose();
        }
    }

    private void Write(string line)
    {
        lock (_writeLock)
        {
            if (_console is not null)
            {
                _console.Write(line);
                _console.Flush();
            }

            if (_file is not null)
            {
                try
                {
                    _file.Write(Encoding.UTF8.GetBytes(line));
                }
                catch (IOException ex) when (_console is not null)
                {
                    // The file is gone or the disk is full: say so on the console rather than lose the process.
                    _console.Write(LogFormatter.Format(
                        _format, _time.GetUtcNow(), LogLevel.Error, _root, "writing the log file failed",
                        [("path", _file.Path), ("error", $"{ex.GetType().Name}: {ex.Message}")]));
                }
            }
        }
    }

    /// <summary>
    /// The generic host's "Hosting failed to start" error: Gatehouse reports a failed start itself, as one line on
    /// stderr, with the details at Debug; the host's line would say it a second time.
    /// </summary>
    private static bool IsReportedElsewhere(string category, EventId eventId) =>
        eventId.Name == "HostedServiceStartupFaulted" && category == "Microsoft.Extensions.Hosting.Internal.Host";

    private sealed class Logger(GatehouseLoggerProvider provider, string category, string module) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => provider._switch.IsEnabled(category, logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || IsReportedElsewhere(category, eventId))
            {
                return;
            }

            string message = formatter(state, exception);
            string line = LogFormatter.Format(
                provider._format, provider._time.GetUtcNow(), logLevel, module, message,
                state as IReadOnlyList<KeyValuePair<string, object?>>, exception);
            provider.Write(line);
        }
    }
}
