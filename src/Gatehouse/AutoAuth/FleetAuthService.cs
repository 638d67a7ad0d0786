using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Gatehouse.Configuration;
using Gatehouse.Shared;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth;

/// <summary>Timings of the fleet identity; defaults for production, shorter in tests.</summary>
internal sealed record FleetOptions
{
    /// <summary>How long a leader's lease lasts without renewal (renewed every third of it).</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a follower reads the fleet token without a pub/sub message (the fallback).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>False in tests that stand for a killed leader: the lease is left to expire.</summary>
    public bool ReleaseOnStop { get; init; } = true;

    /// <summary>This replica's name in the lease (random per process).</summary>
    public string ReplicaId { get; init; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>This replica's part in the fleet identity now.</summary>
internal enum FleetRole
{
    Starting,
    Leader,
    Follower,

    /// <summary>Redis is unreachable: this replica authenticates on its own until it returns.</summary>
    Local,
}

/// <summary>
/// One auto-auth identity for a fleet of replicas (<c>cache { shared "redis" }</c>), replacing <see cref="AutoAuthService"/>:
/// the replica holding the fleet's lease (<see cref="FleetLeases"/>) runs the usual <see cref="AuthHandler"/> loop and
/// writes each token it publishes to Redis, sealed and fenced by its epoch, then announces it on pub/sub; the others do
/// not log in: they adopt the fleet token (on the message, or by polling every second) and publish it to their own
/// token store, so their proxy and sinks use it. A leader that takes over renews the token it already holds instead of
/// logging in (Vault refusing it: one login). Redis unreachable: the replica runs the loop on its own from the token it
/// has (renewing it, logging in only when it must) and rejoins when Redis returns. A follower whose client met a 403
/// that Vault confirms (lookup-self) tells the leader, which logs in once for everyone.
/// </summary>
internal sealed partial class FleetAuthService : HostedLoop
{
    private static readonly TimeSpan RejectionCheckInterval = AuthHandler.RejectionCheckInterval;

    private readonly AuthHandler _handler;
    private readonly AutoAuthExit _exit;
    private readonly TokenStore _store;
    private readonly SharedStore _shared;
    private readonly VaultClient _client;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FleetLeases _leases;
    private readonly string _keyLocator;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
    private long _epoch;
    private long _lastVersion = -1;
    private AutoAuthToken? _adopted;
    private DateTimeOffset? _lastRejectionCheck;
    private CancellationTokenSource? _leading;
    private int _otherKeyLogged;

    public FleetAuthService(
        AuthHandler handler, AutoAuthExit exit, TokenStore store, SharedStore shared, VaultClient client, AuthMethodConfig method,
        FleetOptions options, TimeProvider time, ILogger<FleetAuthService> logger)
    {
        _handler = handler;
        _exit = exit;
        _store = store;
        _shared = shared;
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
        _leases = new FleetLeases(shared, FleetId.Of(method, shared.Keys));

        // Replicas with this method's shape (not its values) note their key id here, so that one whose key differs
        // from the others' (and so forms a fleet of its own) can say so.
        _keyLocator = shared.Key("keys", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            Encoding.UTF8.GetBytes($"{method.Type}|{method.EffectiveMountPath}|{method.Namespace}|{string.Join(',', method.Config.Values.Keys.Order(StringComparer.Ordinal))}")))[..32]);
        store.Published += OnPublished;
    }

    public FleetRole Role { get; private set; } = FleetRole.Starting;

    public FleetLeases Leases => _leases;

    /// <summary>Test hook: raised on each change of role.</summary>
    internal event Action<FleetRole>? RoleChanged;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _shared.ConnectAsync(stoppingToken).ConfigureAwait(false);
        var subscribed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!subscribed)
            {
                subscribed = await _shared.SubscribeAsync(_leases.Channel, OnMessage, stoppingToken).ConfigureAwait(false);
                if (subscribed)
                    await CheckKeyIdsAsync(stoppingToken).ConfigureAwait(false);
            }

            var epoch = await _leases.TryAcquireAsync(_options.ReplicaId, _options.LeaseTtl, stoppingToken).ConfigureAwait(false);
            AuthOutcome? outcome = epoch switch
            {
                null => await RunLocalAsync(stoppingToken).ConfigureAwait(false),
                > 0 => await RunLeaderAsync(epoch.Value, stoppingToken).ConfigureAwait(false),
                _ => await RunFollowerAsync(stoppingToken).ConfigureAwait(false),
            };
            if (outcome is { IsFatal: true })
            {
                _exit.Request(outcome);
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_options.ReleaseOnStop && Role == FleetRole.Leader)
            await _leases.ReleaseAsync(FleetLeases.Holder(_options.ReplicaId, _epoch), cancellationToken).ConfigureAwait(false);
    }

    private void SetRole(FleetRole role)
    {
        if (Role == role)
            return;
        Role = role;
        switch (role)
        {
            case FleetRole.Leader:
                Log.Leading(_logger, _leases.FleetId, _epoch);
                break;
            case FleetRole.Follower:
                Log.Following(_logger, _leases.FleetId);
                break;
            case FleetRole.Local:
                Log.Local(_logger);
                break;
        }

        RoleChanged?.Invoke(role);
    }

    // ---- Leader ----

    private async Task<AuthOutcome?> RunLeaderAsync(long epoch, CancellationToken stoppingToken)
    {
        _epoch = epoch;
        var holder = FleetLeases.Holder(_options.ReplicaId, epoch);
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Volatile.Write(ref _leading, leading);
        SetRole(FleetRole.Leader);

        // Take over the fleet's token rather than log in: the one this replica holds, else the one in Redis.
        var existing = _store.Current;
        if (existing is null && await _leases.ReadTokenAsync(stoppingToken).ConfigureAwait(false) is { Ok: true, Value.Plaintext: { } plaintext })
            existing = FleetToken.Parse(plaintext);
        if (existing is not null && await TakeOverAsync(existing, stoppingToken).ConfigureAwait(false) is { } kept)
            _store.Preload(kept);

        var auth = _handler.RunAsync(leading.Token);
        try
        {
            while (!leading.IsCancellationRequested)
            {
                var tick = Task.Delay(_options.LeaseTtl / 3, _time, leading.Token);
                if (await Task.WhenAny(tick, auth).ConfigureAwait(false) == auth)
                    break;
                if (leading.IsCancellationRequested)
                    break;
                var renewed = await _leases.RenewAsync(holder, _options.LeaseTtl, stoppingToken).ConfigureAwait(false);
                if (renewed == false)
                {
                    Log.LeaseLost(_logger, epoch);
                    break;
                }

                if (renewed is null)
                {
                    // Redis is away: go on alone (the same loop, from the token held) until it returns.
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (leading.IsCancellationRequested)
        {
            // Stopping, or a fenced write found a newer leader.
        }
        finally
        {
            Volatile.Write(ref _leading, null);
            await leading.CancelAsync().ConfigureAwait(false);
        }

        var outcome = await auth.ConfigureAwait(false);
        return outcome.IsFatal ? outcome : null;
    }

    /// <summary>
    /// The token this replica takes over with: renewed once (which proves Vault still accepts it), or as it is when
    /// Vault cannot answer now (the loop's lookup decides). Null when Vault refused it: the loop then logs in once.
    /// </summary>
    private async Task<AutoAuthToken?> TakeOverAsync(AutoAuthToken token, CancellationToken cancellationToken)
    {
        if (!token.Renewable || token.ExpiresAt is null)
            return token;
        var result = await _client.RenewSelfAsync(token.Token, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (result.IsSuccess && result.Secret?.Auth is { } auth)
        {
            Log.TookOver(_logger, token.Accessor ?? "(none)");
            return token with { ObtainedAt = _time.GetUtcNow(), Ttl = auth.LeaseDuration > TimeSpan.Zero ? auth.LeaseDuration : null, Renewable = auth.Renewable };
        }

        return result.Error is { IsTokenRejected: true } ? null : token;
    }

    /// <summary>A token the leader's loop published (login, adoption, renewal) goes to the fleet.</summary>
    private void OnPublished(AutoAuthToken token)
    {
        if (Role != FleetRole.Leader || ReferenceEquals(token, _adopted) || token.WrapInfoJson is not null)
            return;
        _ = WriteAsync(token, _epoch);
    }

    private async Task WriteAsync(AutoAuthToken token, long epoch)
    {
        var keep = token.ExpiresAt is { } expires ? expires - _time.GetUtcNow() : (TimeSpan?)null;
        var (outcome, version) = await _leases.WriteTokenAsync(epoch, FleetToken.Serialize(token), keep, CancellationToken.None).ConfigureAwait(false);
        switch (outcome)
        {
            case FleetWrite.Written:
                Volatile.Write(ref _lastVersion, version);
                await _shared.PublishAsync(_leases.Channel, "token", CancellationToken.None).ConfigureAwait(false);
                break;
            case FleetWrite.Stale:
                Log.StaleWriteRefused(_logger, epoch);
                if (Volatile.Read(ref _leading) is { } leading)
                    await leading.CancelAsync().ConfigureAwait(false);
                break;
            default:
                // Redis is away: followers keep theirs or work alone; the next renewal writes again.
                break;
        }
    }

    // ---- Follower ----

    private async Task<AuthOutcome?> RunFollowerAsync(CancellationToken stoppingToken)
    {
        SetRole(FleetRole.Follower);
        while (!stoppingToken.IsCancellationRequested)
        {
            var read = await _leases.ReadTokenAsync(stoppingToken, known: Volatile.Read(ref _lastVersion)).ConfigureAwait(false);
            if (!read.Ok)
                return null;
            var (version, plaintext) = read.Value;
            if (plaintext is null && version > 0)
            {
                // Read once: a version that does not open here is not opened (nor logged) again each second.
                Volatile.Write(ref _lastVersion, version);
            }

            if (plaintext is not null && FleetToken.Parse(plaintext) is { } token)
            {
                Volatile.Write(ref _lastVersion, version);
                if (token.ExpiresAt is not { } expires || expires > _time.GetUtcNow())
                {
                    _adopted = token;
                    Log.Adopted(_logger, token.Accessor ?? "(none)", version);
                    _store.Publish(token);
                }
            }

            if (await _leases.LeaderExistsAsync(stoppingToken).ConfigureAwait(false) != true)
                return null;

            await CheckRejectionsAsync(version, stoppingToken).ConfigureAwait(false);
            await WaitAsync(_options.PollInterval, stoppingToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>A 403 the proxy met with the fleet token, confirmed with lookup-self, is told to the leader (which logs in).</summary>
    private async Task CheckRejectionsAsync(long version, CancellationToken cancellationToken)
    {
        var reported = false;
        while (_store.Rejections.TryRead(out var rejected))
            reported |= rejected == _store.Current?.Token;
        if (!reported || _store.Current is not { } current)
            return;
        var now = _time.GetUtcNow();
        if (_lastRejectionCheck is { } last && now - last < RejectionCheckInterval)
            return;
        _lastRejectionCheck = now;
        var lookup = await _client.LookupSelfAsync(current.Token, cancellationToken).ConfigureAwait(false);
        if (lookup.Error is { IsTokenRejected: true })
        {
            Log.RejectionReported(_logger, current.Accessor ?? "(none)");
            await _shared.PublishAsync(_leases.Channel, $"rejected:{version}", cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnMessage(string message)
    {
        if (message == "token")
        {
            _wake.Writer.TryWrite(true);
        }
        else if (message.StartsWith("rejected:", StringComparison.Ordinal) && Role == FleetRole.Leader
            && long.TryParse(message.AsSpan("rejected:".Length), out var version) && version == Volatile.Read(ref _lastVersion)
            && _store.Current is { } current)
        {
            // The leader's own loop confirms with Vault and logs in once.
            _store.ReportRejected(current.Token);
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(delay, _time, stop.Token);
        var woken = _wake.Reader.WaitToReadAsync(stop.Token).AsTask();
        var rejection = _store.Rejections.WaitToReadAsync(stop.Token).AsTask();
        await Task.WhenAny(timer, woken, rejection).ConfigureAwait(false);
        _wake.Reader.TryRead(out _);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    // ---- Redis unreachable ----

    private async Task<AuthOutcome?> RunLocalAsync(CancellationToken stoppingToken)
    {
        SetRole(FleetRole.Local);
        if (_store.Current is { } current)
            _store.Preload(current);
        using var local = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var auth = _handler.RunAsync(local.Token);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var tick = Task.Delay(_options.PollInterval, _time, stoppingToken);
                if (await Task.WhenAny(tick, auth).ConfigureAwait(false) == auth)
                    break;
                if ((await _shared.RunAsync(db => db.PingAsync(), stoppingToken).ConfigureAwait(false)).Ok)
                    break;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await local.CancelAsync().ConfigureAwait(false);
        }

        var outcome = await auth.ConfigureAwait(false);
        return outcome.IsFatal ? outcome : null;
    }

    private async Task CheckKeyIdsAsync(CancellationToken cancellationToken)
    {
        var ours = _shared.Keys.KeyIdText;
        var members = await _shared.RunAsync(async db =>
        {
            await db.SetAddAsync(_keyLocator, ours).ConfigureAwait(false);
            return await db.SetMembersAsync(_keyLocator).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (!members.Ok)
            return;
        var others = members.Value!.Select(m => m.ToString()).Where(m => m != ours).Order(StringComparer.Ordinal).ToList();
        if (others.Count > 0 && Interlocked.Exchange(ref _otherKeyLogged, 1) == 0)
            Log.OtherKeyIds(_logger, string.Join(", ", others), ours);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.FleetLeading, LogLevel.Information, "fleet {Fleet}: this replica leads (epoch {Epoch}): it logs in and renews for the fleet")]
        public static partial void Leading(ILogger logger, string fleet, long epoch);

        [LoggerMessage(LogEvents.FleetFollowing, LogLevel.Information, "fleet {Fleet}: another replica leads; this one adopts the fleet token")]
        public static partial void Following(ILogger logger, string fleet);

        [LoggerMessage(LogEvents.FleetLocal, LogLevel.Warning, "shared store unreachable: this replica authenticates on its own until it returns")]
        public static partial void Local(ILogger logger);

        [LoggerMessage(LogEvents.FleetAdopted, LogLevel.Information, "adopted the fleet token (accessor {Accessor}, version {Version})")]
        public static partial void Adopted(ILogger logger, string accessor, long version);

        [LoggerMessage(LogEvents.FleetTookOver, LogLevel.Information, "took over the fleet token (accessor {Accessor}) and renewed it: no new login")]
        public static partial void TookOver(ILogger logger, string accessor);

        [LoggerMessage(LogEvents.FleetLeaseLost, LogLevel.Warning, "fleet lease (epoch {Epoch}) lost to another replica: following")]
        public static partial void LeaseLost(ILogger logger, long epoch);

        [LoggerMessage(LogEvents.FleetStaleWriteRefused, LogLevel.Warning, "fleet token write refused: epoch {Epoch} is stale (a newer leader holds the fleet); following")]
        public static partial void StaleWriteRefused(ILogger logger, long epoch);

        [LoggerMessage(LogEvents.FleetRejectionReported, LogLevel.Information, "Vault refuses the fleet token (accessor {Accessor}); told the leader")]
        public static partial void RejectionReported(ILogger logger, string accessor);

        [LoggerMessage(LogEvents.FleetOtherKeyIds, LogLevel.Error, "replicas with this auth method seal with key id(s) {TheirKeyIds} but this replica's key id is {OurKeyId}: it cannot read their token and works as a fleet of its own; check key_file/key_env_var on every replica")]
        public static partial void OtherKeyIds(ILogger logger, string theirKeyIds, string ourKeyId);
    }
}

/// <summary>The fleet token as sealed in Redis: JSON of the token, accessor, when obtained, TTL and renewability.</summary>
internal static class FleetToken
{
    public static byte[] Serialize(AutoAuthToken token)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("token", token.Token);
            json.WriteString("accessor", token.Accessor);
            json.WriteNumber("obtained_at_ms", token.ObtainedAt.ToUnixTimeMilliseconds());
            if (token.Ttl is { } ttl)
                json.WriteNumber("ttl_ms", (long)ttl.TotalMilliseconds);
            json.WriteBoolean("renewable", token.Renewable);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The token, or null when the plaintext is not one (a newer format, damage that passed the tag: never).</summary>
    public static AutoAuthToken? Parse(byte[] plaintext)
    {
        try
        {
            using var document = JsonDocument.Parse(plaintext);
            var root = document.RootElement;
            if (root.GetProperty("token").GetString() is not { Length: > 0 } token)
                return null;
            var accessor = root.TryGetProperty("accessor", out var a) ? a.GetString() : null;
            var obtained = DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("obtained_at_ms").GetInt64());
            TimeSpan? ttl = root.TryGetProperty("ttl_ms", out var t) ? TimeSpan.FromMilliseconds(t.GetInt64()) : null;
            return new AutoAuthToken(token, accessor, obtained, ttl, root.GetProperty("renewable").GetBoolean());
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
