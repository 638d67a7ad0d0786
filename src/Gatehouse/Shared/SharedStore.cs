using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Shared;

/// <summary>The outcome of one shared-store operation: the value when <see cref="Ok"/>, else why not.</summary>
internal readonly record struct SharedResult<T>(bool Ok, T? Value, string? Failure)
{
    public static SharedResult<T> Success(T value) => new(true, value, null);

    public static SharedResult<T> Failed(string why) => new(false, default, why);
}

/// <summary>
/// The connection to the shared store (<c>cache { shared "redis" }</c>), over StackExchange.Redis. It never throws for
/// Redis being away: the connection is made with AbortOnConnectFail = false and keeps reconnecting in the background;
/// every operation is bounded by <c>operation_timeout</c> (on the injected <see cref="TimeProvider"/>) and ends as a
/// <see cref="SharedResult{T}"/>, so a caller on a client request's path waits at most that long and goes on without
/// Redis. The store is Up or Down: connection events and each operation's outcome flip it, with one log line per
/// transition, the <c>vault.gatehouse.shared.up</c> gauge and a line in the health body (never in readiness).
/// </summary>
internal sealed partial class SharedStore : IAsyncDisposable
{
    private const int StateUnknown = 0;
    private const int StateUp = 1;
    private const int StateDown = 2;

    private readonly SharedConfig _config;
    private readonly TimeProvider _time;
    private readonly GatehouseMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly SharedAddress _address;
    private readonly TimeSpan _operationTimeout;
    private readonly Lock _connectLock = new();
    private readonly Lock _transitionLock = new();
    private readonly ConcurrentDictionary<string, Action<RedisChannel, RedisValue>> _handlers = new(StringComparer.Ordinal);
    private Task<ConnectionMultiplexer>? _connecting;
    private int _state = StateUnknown;
    private int _otherKeyLogged;

    public SharedStore(SharedConfig config, SharedKeys keys, TimeProvider time, ILogger<SharedStore> logger, GatehouseMetrics? metrics = null)
    {
        _config = config;
        Keys = keys;
        Sealer = new Sealer(keys);
        _time = time;
        _logger = logger;
        _metrics = metrics;
        if (!SharedAddress.TryParse(config.Address, out _address, out var error))
            throw new SharedStoreException($"cache.shared.address: {error}");
        _operationTimeout = config.EffectiveOperationTimeout;
        KeyPrefix = config.EffectiveKeyPrefix;
        metrics?.ObserveShared(() => IsUp);
    }

    public SharedKeys Keys { get; }

    public Sealer Sealer { get; }

    public string KeyPrefix { get; }

    /// <summary>The address as logs and health show it.</summary>
    public string Address => _address.ToString();

    public TimeSpan OperationTimeout => _operationTimeout;

    /// <summary>True while Redis answers (the last connection event or operation succeeded).</summary>
    public bool IsUp => Volatile.Read(ref _state) == StateUp;

    /// <summary>Raised on each transition, with the new state (true: up). Handlers must not block.</summary>
    public event Action<bool>? StateChanged;

    /// <summary>
    /// Raised when the pub/sub connection drops (false) or is made again (true), apart from the store's state: while it
    /// is down, messages to this replica are lost even when Redis answers. Handlers must not block.
    /// </summary>
    public event Action<bool>? SubscriptionChanged;

    /// <summary>The Redis key for <paramref name="parts"/>: the prefix, then the parts joined by ':'.</summary>
    public string Key(params string[] parts) => KeyPrefix + string.Join(':', parts);

    /// <summary>
    /// Starts connecting (once) and waits at most connect_timeout for the first connection; returns whether it is up.
    /// Never throws for Redis being unreachable: the connection keeps trying in the background.
    /// </summary>
    public async Task<bool> ConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await Connection().WaitAsync(_config.EffectiveConnectTimeout, _time, cancellationToken).ConfigureAwait(false);
            var up = connection.IsConnected;
            Transition(up, up ? null : "not connected");
            return up;
        }
        catch (Exception exception) when (exception is TimeoutException or RedisException)
        {
            Transition(false, exception.Message);
            return false;
        }
    }

    /// <summary>
    /// Runs one operation on the database, bounded by operation_timeout. A failure (Redis away, a timeout, an error
    /// reply) marks the store Down; a success marks it Up. A caller's cancellation is thrown as usual.
    /// </summary>
    public async Task<SharedResult<T>> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        var connecting = Connection();
        if (!connecting.IsCompletedSuccessfully || !connecting.Result.IsConnected)
        {
            // Not connected (yet): do not queue behind the reconnect; the caller goes on without Redis now.
            _metrics?.SharedOperation("down");
            Transition(false, "not connected");
            return SharedResult<T>.Failed("the shared store is not connected");
        }

        try
        {
            var value = await operation(connecting.Result.GetDatabase()).WaitAsync(_operationTimeout, _time, cancellationToken).ConfigureAwait(false);
            _metrics?.SharedOperation("ok");
            Transition(true, null);
            return SharedResult<T>.Success(value);
        }
        catch (TimeoutException exception)
        {
            _metrics?.SharedOperation("timeout");
            Transition(false, $"an operation took longer than {GoCompat.GoFormat.FormatDuration(_operationTimeout)}");
            return SharedResult<T>.Failed(exception.Message);
        }
        catch (RedisServerException exception)
        {
            // Redis answered, with an error (a script refused, a wrong type): it is up; the caller decides.
            _metrics?.SharedOperation("failed");
            return SharedResult<T>.Failed(exception.Message);
        }
        catch (RedisException exception)
        {
            _metrics?.SharedOperation("failed");
            Transition(false, exception is RedisConnectionException connection ? $"connection failed: {connection.FailureType}" : exception.GetType().Name);
            return SharedResult<T>.Failed(exception.Message);
        }
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to a pub/sub channel (named with <see cref="Key"/>), replacing the handler an
    /// earlier call gave for it (unsubscribed first, so a message is never handled twice). True once Redis acknowledged
    /// the subscription: from then on every message published to the channel reaches the handler, until
    /// <see cref="SubscriptionChanged"/> says the connection dropped. StackExchange.Redis also re-subscribes after a
    /// reconnect by itself, but tells nobody when that is done; a caller that must not miss a message calls this again
    /// after the connection is back. False when Redis is away now, or refused (an ACL without the channel).
    /// </summary>
    public async Task<bool> SubscribeAsync(string channel, Action<string> handler, CancellationToken cancellationToken)
    {
        var result = await RunSubscriberAsync(
            async subscriber =>
            {
                var literal = RedisChannel.Literal(channel);
                Action<RedisChannel, RedisValue> wrapped = (_, message) => handler(message.ToString());
                if (_handlers.TryRemove(channel, out var previous))
                    await subscriber.UnsubscribeAsync(literal, previous).ConfigureAwait(false);

                // Noted before it is sent: a refused subscription still leaves the handler with the client.
                _handlers[channel] = wrapped;
                await subscriber.SubscribeAsync(literal, wrapped).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        return result.Ok;
    }

    /// <summary>Publishes <paramref name="message"/> on a channel; the number of receivers, or a failure.</summary>
    public Task<SharedResult<long>> PublishAsync(string channel, string message, CancellationToken cancellationToken) =>
        RunSubscriberAsync(subscriber => subscriber.PublishAsync(RedisChannel.Literal(channel), message), cancellationToken);

    /// <summary>
    /// Reads and opens a sealed value. Null for a missing key, a failure, or a value this replica cannot open: one
    /// sealed under other key material is logged once (with both key ids), a damaged one each time (without content).
    /// </summary>
    public async Task<SharedResult<byte[]?>> GetSealedAsync(string key, CancellationToken cancellationToken)
    {
        var read = await RunAsync(db => db.StringGetAsync(key), cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
            return SharedResult<byte[]?>.Failed(read.Failure!);
        if (read.Value.IsNull)
            return SharedResult<byte[]?>.Success(null);
        return SharedResult<byte[]?>.Success(Open(key, (byte[])read.Value!));
    }

    /// <summary>Opens an envelope read some other way (a script's answer); see <see cref="GetSealedAsync"/> for what is logged.</summary>
    public byte[]? Open(string key, ReadOnlySpan<byte> envelope)
    {
        var opened = Sealer.Open(key, envelope);
        switch (opened.Status)
        {
            case SealStatus.Opened:
                return opened.Plaintext;
            case SealStatus.OtherKey:
                if (Interlocked.Exchange(ref _otherKeyLogged, 1) == 0)
                    Log.OtherKey(_logger, opened.OtherKeyId!, Keys.KeyIdText);
                return null;
            default:
                Log.Corrupt(_logger, key);
                return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? connecting;
        lock (_connectLock)
            connecting = _connecting;
        if (connecting is { IsCompletedSuccessfully: true })
        {
            // A stop does not wait for Redis: operations still out are abandoned (their callers have timed out or go on).
            await connecting.Result.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The options StackExchange.Redis is given: never abort on a failed connect, bounded waits, TLS as configured.</summary>
    internal ConfigurationOptions Options()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = Milliseconds(_config.EffectiveConnectTimeout),
            AsyncTimeout = Milliseconds(_operationTimeout),
            SyncTimeout = Milliseconds(_operationTimeout),
            ClientName = $"gatehouse-{ProductInfo.Version}",
            User = string.IsNullOrEmpty(_config.Username) ? null : _config.Username,
            Password = Password(),
            Ssl = _config.TlsOn,
            SslHost = string.IsNullOrEmpty(_config.TlsServerName) ? null : _config.TlsServerName,
        };
        options.EndPoints.Add(_address.IsUnix ? new UnixDomainSocketEndPoint(_address.UnixPath!) : new DnsEndPoint(_address.Host!, _address.Port));
        if (_config.TlsOn)
            ConfigureTls(options);
        return options;
    }

    private Task<ConnectionMultiplexer> Connection()
    {
        lock (_connectLock)
        {
            return _connecting ??= Open();
        }

        async Task<ConnectionMultiplexer> Open()
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(Options()).ConfigureAwait(false);
            connection.ConnectionFailed += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive)
                    Transition(false, $"connection failed: {e.FailureType}");
                else if (e.ConnectionType == ConnectionType.Subscription)
                    SubscriptionChanged?.Invoke(false);
            };
            connection.ConnectionRestored += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive)
                    Transition(true, null);
                else if (e.ConnectionType == ConnectionType.Subscription)
                    SubscriptionChanged?.Invoke(true);
            };
            return connection;
        }
    }

    private async Task<SharedResult<T>> RunSubscriberAsync<T>(Func<ISubscriber, Task<T>> operation, CancellationToken cancellationToken)
    {
        var connecting = Connection();
        if (!connecting.IsCompletedSuccessfully || !connecting.Result.IsConnected)
        {
            _metrics?.SharedOperation("down");
            return SharedResult<T>.Failed("the shared store is not connected");
        }

        return await RunAsync(_ => operation(connecting.Result.GetSubscriber()), cancellationToken).ConfigureAwait(false);
    }

    private void Transition(bool up, string? why)
    {
        var next = up ? StateUp : StateDown;
        if (Volatile.Read(ref _state) == next)
            return;
        lock (_transitionLock)
        {
            if (_state == next)
                return;

            // The line is written before the state is seen: whoever observes the new state finds its line logged.
            if (up)
                Log.Up(_logger, Address);
            else
                Log.Down(_logger, Address, why ?? "unknown");
            Volatile.Write(ref _state, next);
        }

        StateChanged?.Invoke(up);
    }

    private string? Password()
    {
        if (!string.IsNullOrEmpty(_config.Password))
            return _config.Password;
        if (string.IsNullOrEmpty(_config.PasswordFile))
            return null;
        try
        {
            return File.ReadAllText(_config.PasswordFile).TrimEnd('\r', '\n');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SharedStoreException($"cache.shared: cannot read password_file {_config.PasswordFile}: {exception.Message}", exception);
        }
    }

    private void ConfigureTls(ConfigurationOptions options)
    {
        if (!string.IsNullOrEmpty(_config.TlsClientCert))
        {
            X509Certificate2 client;
            try
            {
                client = X509Certificate2.CreateFromPemFile(_config.TlsClientCert, _config.TlsClientKey);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new SharedStoreException($"cache.shared: cannot load tls_client_cert {_config.TlsClientCert} and tls_client_key {_config.TlsClientKey}: {exception.Message}", exception);
            }

            options.CertificateSelection += (_, _, _, _, _) => client;
        }

        if (_config.TlsSkipVerify)
        {
            // tls_skip_verify = true: the operator asked for no verification (as vault.tls_skip_verify does).
#pragma warning disable CA5359
            options.CertificateValidation += (_, _, _, _) => true;
#pragma warning restore CA5359
            return;
        }

        if (string.IsNullOrEmpty(_config.TlsCaCert))
            return;
        X509Certificate2Collection roots;
        try
        {
            roots = [];
            roots.ImportFromPemFile(_config.TlsCaCert);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new SharedStoreException($"cache.shared: cannot load tls_ca_cert {_config.TlsCaCert}: {exception.Message}", exception);
        }

        options.CertificateValidation += (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
    }

    private static int Milliseconds(TimeSpan span) => (int)Math.Clamp(span.TotalMilliseconds, 1, int.MaxValue);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.SharedStoreUp, LogLevel.Information, "shared store {Address} is up: sharing with the fleet")]
        public static partial void Up(ILogger logger, string address);

        [LoggerMessage(LogEvents.SharedStoreDown, LogLevel.Warning, "shared store {Address} is unreachable ({Reason}): working on this replica's own until it returns")]
        public static partial void Down(ILogger logger, string address, string reason);

        [LoggerMessage(LogEvents.SharedStoreOtherKey, LogLevel.Error, "shared store entries are sealed under key id {TheirKeyId} but this replica's key id is {OurKeyId}: check key_file/key_env_var on every replica; ignoring them")]
        public static partial void OtherKey(ILogger logger, string theirKeyId, string ourKeyId);

        [LoggerMessage(LogEvents.SharedStoreCorrupt, LogLevel.Warning, "shared store entry {Key} cannot be opened (damaged, or written for another key name); ignoring it")]
        public static partial void Corrupt(ILogger logger, string key);
    }
}
