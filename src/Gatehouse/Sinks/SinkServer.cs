using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Sinks;

/// <summary>
/// Hands each new auto-auth token to every sink. It listens to <see cref="TokenStore.Published"/> through a channel
/// of one that keeps the newest (latest token wins), skips republished snapshots of a token it has already handed
/// out (renewals), and offers the rest to one <see cref="SinkWriter"/> per sink.
/// </summary>
internal sealed partial class SinkServer
{
    private readonly Channel<AutoAuthToken> _tokens = Channel.CreateBounded<AutoAuthToken>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly TaskCompletionSource _firstToken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;

    public SinkServer(IReadOnlyList<ITokenSink> sinks, TokenStore store, GatehouseMetrics metrics, TimeProvider time, ILoggerFactory loggers, Func<double>? random = null)
    {
        _logger = loggers.CreateLogger<SinkServer>();
        var writerLogger = loggers.CreateLogger<SinkWriter>();
        Writers = [.. sinks.Select(s => new SinkWriter(s, metrics, time, writerLogger, random))];

        // Subscribe now, not in RunAsync, so a token published before the loop starts is not missed.
        store.Published += token => _tokens.Writer.TryWrite(token);
        if (store.Current is { } current)
        {
            _tokens.Writer.TryWrite(current);
        }

        FirstTokenWritten = Writers.Count == 0
            ? _firstToken.Task
            : Task.WhenAll(Writers.Select(w => w.FirstWritten));
    }

    public IReadOnlyList<SinkWriter> Writers { get; }

    /// <summary>
    /// Completes when every sink has written the first token (with no sinks: when the first token arrives).
    /// <c>exit_after_auth</c> waits for this.
    /// </summary>
    public Task FirstTokenWritten { get; }

    /// <summary>Checks every sink can write; throws <see cref="SinkStartupException"/> for the first that cannot.</summary>
    public void CheckWritable()
    {
        foreach (var writer in Writers)
        {
            writer.Sink.CheckWritable();
        }
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires, then returns normally.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var writers = Writers.Select(w => w.RunAsync(cancellationToken)).ToList();
        try
        {
            string? last = null;
            await foreach (var token in _tokens.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var value = token.WrapInfoJson ?? token.Token;
                if (value == last)
                {
                    continue;
                }

                last = value;
                _firstToken.TrySetResult();
                Log.NewToken(_logger, token.Accessor ?? "(none)", Writers.Count);
                foreach (var writer in Writers)
                {
                    writer.Offer(token);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: returns normally, like the auth loop.
        }
        finally
        {
            try
            {
                await Task.WhenAll(writers).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SinkServerNewToken, Level = LogLevel.Debug, Message = "sink server: new token (accessor {Accessor}) for {Count} sink(s)")]
        public static partial void NewToken(ILogger logger, string accessor, int count);
    }
}
