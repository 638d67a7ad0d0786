using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache.Static;

/// <summary>
/// Keeps a WebSocket open to Vault Enterprise's event stream (<c>GET /v1/sys/events/subscribe/kv*?json=true&amp;namespaces=*</c>,
/// as Vault Proxy Enterprise's static secret cache updater does) with the current auto-auth token, and tells the
/// <see cref="IKvChangeListener"/> about every KV change and every time the stream comes up or goes down.
/// Where Vault has no such endpoint (Community Edition, OpenBao: 404, or 400/403/405) it says so once and tries again
/// only every <see cref="UnavailableRetry"/>; freshness then rests on <c>static_secret_refresh_interval</c>.
/// </summary>
/// <remarks>
/// The loop, one connection at a time:
/// 1. wait for an auto-auth token;
/// 2. connect with it (X-Vault-Token, the vault stanza's namespace as X-Vault-Namespace, the vault stanza's TLS);
/// 3. on success, StreamStateChanged(true), then read frames and report KV changes until the stream ends;
///    StreamStateChanged(false) when it does;
/// 4. wait: the backoff minimum after a stream that was up, a growing step after a failed connection, five minutes
///    when Vault has no event stream; a new auto-auth token ends the wait (and an open stream) at once.
/// </remarks>
internal sealed partial class KvEventSubscriber : HostedLoop
{
    /// <summary>The first wait after a lost stream or a failed connection; each further failure doubles it.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between connection attempts to a Vault that has an event stream.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(2);

    /// <summary>How often a Vault without the endpoint (or a token without access to it) is asked again.</summary>
    public static readonly TimeSpan UnavailableRetry = TimeSpan.FromMinutes(5);

    /// <summary>A larger frame is skipped: KV events are a few hundred bytes.</summary>
    public const int MaxFrameBytes = 1024 * 1024;

    private readonly Uri _uri;
    private readonly string? _namespace;
    private readonly HttpMessageInvoker _invoker;
    private readonly TokenStore _tokens;
    private readonly IKvChangeListener _listener;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<double>? _random;
    private readonly Channel<bool> _published = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly Lock _gate = new();
    private CancellationTokenSource? _session;
    private string? _sessionToken;

    /// <param name="vaultAddress">vault.address (http or https).</param>
    /// <param name="namespace">The vault stanza's namespace, sent as X-Vault-Namespace; null for none.</param>
    /// <param name="invoker">Built from the vault stanza's TLS settings; the subscriber owns and disposes it.</param>
    /// <param name="random">The backoff's jitter source (null: <see cref="Random.Shared"/>).</param>
    public KvEventSubscriber(
        Uri vaultAddress, string? @namespace, HttpMessageInvoker invoker, TokenStore tokens, IKvChangeListener listener,
        TimeProvider time, ILogger<KvEventSubscriber> logger, Func<double>? random = null)
    {
        _uri = SubscribeUri(vaultAddress);
        _namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
        _invoker = invoker;
        _tokens = tokens;
        _listener = listener;
        _time = time;
        _logger = logger;
        _random = random;
    }

    /// <summary>Raised when the loop starts waiting for this long before its next attempt (tests advance the clock then).</summary>
    internal event Action<TimeSpan>? Waiting;

    /// <summary>The WebSocket address: vault.address with ws/wss, Vault Proxy's pattern and query.</summary>
    public static Uri SubscribeUri(Uri vaultAddress)
    {
        var builder = new UriBuilder(vaultAddress)
        {
            Scheme = vaultAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = vaultAddress.AbsolutePath.TrimEnd('/') + "/v1/sys/events/subscribe/kv*",
            Query = "json=true&namespaces=*",
        };
        return builder.Uri;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    public override void Dispose()
    {
        base.Dispose();
        _invoker.Dispose();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _tokens.Published += OnPublished;
        try
        {
            var backoff = new Backoff(MinBackoff, MaxBackoff, _random);
            var unavailableSaid = false;
            var failureSaid = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                // 1. A token to connect with.
                if (_tokens.Current is not { } token)
                {
                    await _published.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                using var session = OpenSession(token, cancellationToken);
                if (_tokens.Current?.Token != token.Token)
                {
                    // Published between the read and the session: start over with the new one.
                    continue;
                }

                // 2–3. One connection, for as long as it lasts.
                (SessionEnd Kind, int Status, string Detail) outcome;
                try
                {
                    outcome = await RunSessionAsync(token, session.Token).ConfigureAwait(false);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // A bug, or a timeout surfacing as a cancellation, must not stop the host (a faulted BackgroundService does): count it as a failed connection.
                    // Only the type is logged: an exception about the request could quote its headers.
                    Log.Failed(_logger, exception.GetType().FullName);
                    outcome = (SessionEnd.ConnectFailed, 0, exception.GetType().Name);
                }

                CloseSession(session);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (session.IsCancellationRequested)
                {
                    // A new token: reconnect with it now.
                    Log.TokenChanged(_logger);
                    continue;
                }

                // 4. How long until the next attempt.
                TimeSpan wait;
                switch (outcome.Kind)
                {
                    case SessionEnd.Unavailable:
                        if (!unavailableSaid)
                        {
                            Log.Unavailable(_logger, outcome.Status);
                            unavailableSaid = true;
                        }

                        wait = UnavailableRetry;
                        break;
                    case SessionEnd.ConnectFailed:
                        wait = backoff.Next();
                        if (!failureSaid)
                        {
                            Log.ConnectFailed(_logger, outcome.Detail, wait);
                            failureSaid = true;
                        }

                        break;
                    default:
                        unavailableSaid = false;
                        failureSaid = false;
                        backoff.Reset();
                        wait = backoff.Next();
                        break;
                }

                await WaitAsync(wait, token.Token, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _tokens.Published -= OnPublished;
        }
    }

    private CancellationTokenSource OpenSession(AutoAuthToken token, CancellationToken cancellationToken)
    {
        var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (_gate)
        {
            _session = session;
            _sessionToken = token.Token;
        }

        return session;
    }

    private void CloseSession(CancellationTokenSource session)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_session, session))
            {
                _session = null;
                _sessionToken = null;
            }
        }
    }

    /// <summary>The auth loop published a token: end the stream that uses another one, and any wait.</summary>
    private void OnPublished(AutoAuthToken token)
    {
        CancellationTokenSource? end = null;
        lock (_gate)
        {
            if (_session is not null && _sessionToken != token.Token)
            {
                end = _session;
                _session = null;
            }
        }

        _published.Writer.TryWrite(true);
        if (end is not null)
        {
            try
            {
                // Not inline: the auth loop's thread must not run the stream's teardown.
                _ = end.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The session ended meanwhile.
            }
        }
    }

    /// <summary>Waits on the injected clock; a token published meanwhile ends the wait early.</summary>
    private async Task WaitAsync(TimeSpan wait, string usedToken, CancellationToken cancellationToken)
    {
        while (_published.Reader.TryRead(out _))
        {
            // Publications before this wait: only a token other than the one just used matters (checked next).
        }

        if (_tokens.Current?.Token != usedToken)
        {
            return;
        }

        using var early = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, _time, early.Token);
        Waiting?.Invoke(wait);
        var published = _published.Reader.WaitToReadAsync(early.Token).AsTask();
        await Task.WhenAny(delay, published).ConfigureAwait(false);
        await early.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<(SessionEnd Kind, int Status, string Detail)> RunSessionAsync(AutoAuthToken token, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader(VaultHeaders.Token, token.Token);
        if (_namespace is not null)
        {
            socket.Options.SetRequestHeader(VaultHeaders.Namespace, _namespace);
        }

        try
        {
            await socket.ConnectAsync(_uri, _invoker, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or HttpRequestException or IOException
            && !cancellationToken.IsCancellationRequested)
        {
            var status = (int)socket.HttpStatusCode;
            return status is (int)HttpStatusCode.BadRequest or (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden
                or (int)HttpStatusCode.NotFound or (int)HttpStatusCode.MethodNotAllowed
                ? (SessionEnd.Unavailable, status, "")
                : (SessionEnd.ConnectFailed, status, status != 0 ? $"Vault answered {status}" : exception.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (SessionEnd.Ended, 0, "");
        }

        Log.Connected(_logger);
        _listener.StreamStateChanged(true);
        var why = "closed by Vault";
        try
        {
            why = await ReadFramesAsync(socket, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException)
        {
            why = exception.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            why = "";
        }
        finally
        {
            _listener.StreamStateChanged(false);
        }

        if (why.Length > 0)
        {
            Log.Lost(_logger, why);
        }

        return (SessionEnd.Ended, 0, "");
    }

    /// <summary>Reads frames until Vault closes the stream; returns why it ended.</summary>
    private async Task<string> ReadFramesAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(4096);
        var skipping = false;
        while (true)
        {
            var result = await socket.ReceiveAsync(message.GetMemory(4096), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return $"closed by Vault ({socket.CloseStatus})";
            }

            if (!skipping)
            {
                message.Advance(result.Count);
                if (message.WrittenCount > MaxFrameBytes)
                {
                    Log.FrameSkipped(_logger, "larger than 1 MiB");
                    skipping = true;
                }
            }

            if (!result.EndOfMessage)
            {
                if (skipping)
                {
                    message.ResetWrittenCount();
                }

                continue;
            }

            if (!skipping && result.MessageType == WebSocketMessageType.Text)
            {
                Report(KvEventFrame.Parse(message.WrittenMemory));
            }

            skipping = false;
            message.ResetWrittenCount();
        }
    }

    private void Report(KvEventFrame frame)
    {
        switch (frame.Kind)
        {
            case KvEventKind.Changed:
                Log.KvChanged(_logger, frame.EventType, frame.Namespace, frame.Path);
                try
                {
                    _listener.KvChanged(frame.Namespace, frame.Path);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The next events still matter: keep the stream.
                    Log.ListenerFailed(_logger, frame.Path, exception);
                }

                break;
            case KvEventKind.Malformed:
                Log.FrameSkipped(_logger, "not a Vault event");
                break;
        }
    }

    private enum SessionEnd
    {
        /// <summary>The stream was up and ended (or the session was cancelled).</summary>
        Ended,

        /// <summary>Vault has no event stream for this token (400, 401, 403, 404, 405).</summary>
        Unavailable,

        /// <summary>Vault could not be reached, or answered something else.</summary>
        ConnectFailed,
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.KvEventSubscriberConnected, LogLevel.Information, "Vault event stream connected: KV changes reach the static secret cache at once")]
        public static partial void Connected(ILogger logger);

        [LoggerMessage(LogEvents.KvEventSubscriberLost, LogLevel.Information, "Vault event stream lost ({Reason}); reconnecting")]
        public static partial void Lost(ILogger logger, string reason);

        [LoggerMessage(LogEvents.KvEventSubscriberUnavailable, LogLevel.Information,
            "event stream not available (Vault answered {Status}; it needs Vault Enterprise 1.16+ and read on sys/events/subscribe/kv*); freshness relies on static_secret_refresh_interval")]
        public static partial void Unavailable(ILogger logger, int status);

        [LoggerMessage(LogEvents.KvEventSubscriberConnectFailed, LogLevel.Warning, "Connecting to Vault's event stream failed ({Detail}); retrying in {Delay}")]
        public static partial void ConnectFailed(ILogger logger, string detail, TimeSpan delay);

        [LoggerMessage(LogEvents.KvEventSubscriberFrameSkipped, LogLevel.Debug, "Skipped an event stream frame: {Reason}")]
        public static partial void FrameSkipped(ILogger logger, string reason);

        [LoggerMessage(LogEvents.KvEventSubscriberKvChanged, LogLevel.Debug, "Vault event {EventType}: namespace \"{Namespace}\" path {Path}")]
        public static partial void KvChanged(ILogger logger, string? eventType, string @namespace, string path);

        [LoggerMessage(LogEvents.KvEventSubscriberFailed, LogLevel.Error, "The event stream loop failed ({ExceptionType}); retrying")]
        public static partial void Failed(ILogger logger, string? exceptionType);

        [LoggerMessage(LogEvents.KvEventSubscriberListenerFailed, LogLevel.Error, "The static secret cache failed to take the change of {Path}")]
        public static partial void ListenerFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(LogEvents.KvEventSubscriberTokenChanged, LogLevel.Debug, "Auto-auth token changed; reconnecting the event stream with the new one")]
        public static partial void TokenChanged(ILogger logger);
    }
}
