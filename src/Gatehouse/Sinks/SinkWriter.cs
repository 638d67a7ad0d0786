using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Sinks;

/// <summary>
/// The loop that feeds one sink. It takes the newest token offered (a channel of one that drops the older), writes
/// it, and on failure waits a backoff and tries again with whatever token is newest then. Each sink has its own
/// writer, so a failing sink never delays the others.
/// </summary>
internal sealed partial class SinkWriter
{
    /// <summary>Sink retries: Vault waits 1–3 s each time; we back off from 1 s to 1 minute.</summary>
    public static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(1);

    private readonly Channel<AutoAuthToken> _pending = Channel.CreateBounded<AutoAuthToken>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly TaskCompletionSource _firstWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITokenSink _sink;
    private readonly GatehouseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Backoff _backoff;

    public SinkWriter(ITokenSink sink, GatehouseMetrics metrics, TimeProvider time, ILogger logger, Func<double>? random = null)
    {
        _sink = sink;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _backoff = new Backoff(MinRetry, MaxRetry, random);
    }

    public ITokenSink Sink => _sink;

    /// <summary>Completes when this sink has written its first token.</summary>
    public Task FirstWritten => _firstWritten.Task;

    /// <summary>Test hook: raised when a retry wait starts (its timer armed), with the delay.</summary>
    internal event Action<ITokenSink, TimeSpan>? RetryWaiting;

    /// <summary>Raised after each successful write (tests use it as the quiescent signal).</summary>
    internal event Action<ITokenSink, AutoAuthToken>? Written;

    /// <summary>True while a token waits to be written (tests).</summary>
    internal bool HasPending => _pending.Reader.Count > 0;

    /// <summary>Test hook: raised after a token has been offered (it is then pending or being written).</summary>
    internal event Action<ITokenSink, AutoAuthToken>? Offered;

    /// <summary>Offers a token; an older one still waiting is dropped.</summary>
    public void Offer(AutoAuthToken token)
    {
        _pending.Writer.TryWrite(token);
        Offered?.Invoke(_sink, token);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var token = await _pending.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                try
                {
                    await _sink.WriteAsync(token, cancellationToken).ConfigureAwait(false);
                    _backoff.Reset();
                    Log.Written(_logger, _sink.Name, token.Accessor ?? "(none)");
                    _firstWritten.TrySetResult();
                    Written?.Invoke(_sink, token);
                    break;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or SinkWriteException)
                {
                    _metrics.SinkWriteFailed();
                    var delay = _backoff.Next();
                    Log.WriteFailed(_logger, _sink.Name, e.Message, delay);
                    var wait = Task.Delay(delay, _time, cancellationToken);
                    RetryWaiting?.Invoke(_sink, delay);
                    await wait.ConfigureAwait(false);

                    // Latest token wins: retry with a newer one if it arrived meanwhile.
                    if (_pending.Reader.TryRead(out var newer))
                    {
                        token = newer;
                    }
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SinkWriterWritten, Level = LogLevel.Information, Message = "sink: token (accessor {Accessor}) written to {Sink}")]
        public static partial void Written(ILogger logger, string sink, string accessor);

        [LoggerMessage(EventId = LogEvents.SinkWriterWriteFailed, Level = LogLevel.Error, Message = "sink: writing to {Sink} failed: {Error}; retrying in {Delay}")]
        public static partial void WriteFailed(ILogger logger, string sink, string error, TimeSpan delay);
    }
}
