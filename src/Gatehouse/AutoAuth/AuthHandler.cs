using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth;

/// <summary>
/// The auto-auth loop: logs in with the configured method, publishes the token to <see cref="TokenStore"/> (the
/// proxy and the sink server read it there), keeps it alive with renew-self and logs in again when it must. It never
/// retries without waiting: every failure waits <see cref="Backoff"/>.
/// </summary>
/// <remarks>
/// Step map of <see cref="RunAsync"/>:
/// 0. While a token restored from the persistent cache (<see cref="TokenStore.Restored"/>) is waiting for Vault's word:
///    lookup-self with it. Accepted: adopted (TTL and renewable from the lookup), go to 2. Refused: the store refuses
///    it (the cache drops its entries), the failure is counted, and 1 runs after one <c>min_backoff</c> wait (Vault's
///    behaviour). Vault unavailable (down, sealed): counted, backoff, and 0 again — the token keeps answering cache
///    lookups meanwhile; with exit_on_err it is tried once and 1 follows, as in Vault.
/// 1. Log in (token_file: adopt the file's token after lookup-self). On failure: count it, log it; with exit_on_err
///    return a fatal <see cref="AuthOutcome"/>; otherwise wait the backoff and go to 1. When Vault could not answer
///    (no response, 502/503/504), the wait in 0 and 1 ends as soon as <see cref="VaultRecovery"/> sees Vault back.
/// 2. Publish the token; reset the backoff.
/// 3. A wrapped login or a token with no TTL has nothing to renew: wait for a rejection report, then go to 1.
///    A token that is not renewable: wait until its grace window (10–20% of the TTL before expiry), then go to 1.
/// 4. Renewable: sleep ⅔ of the remaining TTL plus ⅓ of the grace (Vault's lifetime watcher). If that sleep would end
///    inside the grace window — the max TTL is near — go to 1. A rejection report for this token wakes the loop and
///    sends it to 1 at once.
/// 5. Renew-self. Success: count, republish with the new TTL, go to 4. Vault refused the token (403, bad token):
///    count, go to 1. Anything else (Vault down, 5xx): count, wait the backoff — but never past the grace window —
///    and try again; only when the token is inside the grace window, go to 1 (hashicorp/vault #10918: giving up on
///    the first failed renewal lost tokens during short outages).
/// </remarks>
internal sealed partial class AuthHandler
{
    private readonly IAuthMethod _method;
    private readonly VaultClient _client;
    private readonly TokenStore _store;
    private readonly GatehouseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AuthHandlerOptions _options;
    private readonly Backoff _backoff;
    private readonly Func<double> _random;
    private readonly VaultRecovery _recovery;

    /// <summary>When the proxy's last rejection report was checked with Vault (see <see cref="ConfirmRejectedAsync"/>).</summary>
    private DateTimeOffset? _lastRejectionCheck;

    public AuthHandler(
        IAuthMethod method,
        VaultClient client,
        TokenStore store,
        GatehouseMetrics metrics,
        TimeProvider time,
        ILogger<AuthHandler> logger,
        AuthHandlerOptions options)
    {
        if (options.MinBackoff > options.MaxBackoff)
        {
            throw new AutoAuthConfigException(
                $"auth handler: min_backoff ({options.MinBackoff}) cannot be greater than max_backoff ({options.MaxBackoff})");
        }

        _method = method;
        _client = client;
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _options = options;
        _random = options.Random ?? Random.Shared.NextDouble;
        _backoff = new Backoff(options.MinBackoff, options.MaxBackoff, _random);
        _recovery = new VaultRecovery(client, time, _random, logger);
        metrics.ObserveTokenTtl(() => store.Current?.ExpiresAt is { } expires ? (expires - time.GetUtcNow()).TotalSeconds : null);
    }

    /// <summary>
    /// Test hook: raised each time the loop starts waiting (its timer is already armed, so advancing a fake clock by
    /// <see cref="AuthLoopWait.Delay"/> ends the wait). Tests use it as the "loop is quiescent" signal.
    /// </summary>
    internal event Action<AuthLoopWait>? Waiting;

    /// <summary>What ends a login backoff early when Vault comes back after an outage (tests hook its probes).</summary>
    internal VaultRecovery Recovery => _recovery;

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> fires (returns <see cref="AuthOutcome.Stopped"/>) or a login
    /// fails with exit_on_err set (returns a fatal outcome the host turns into exit code 1).
    /// </summary>
    public async Task<AuthOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var methodStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var methodTask = _method is IBackgroundAuthMethod background
            ? RunMethodAsync(background, methodStop.Token)
            : Task.CompletedTask;
        try
        {
            // A wrapped login hands sinks wrap-info, which a restored token cannot provide: it is never adopted.
            if (_options.WrapTtl is not null && _store.Restored is { } unwrappable)
            {
                _store.DropRestored(unwrappable);
            }

            var loggedInBefore = false;
            var restoredTried = false;
            while (true)
            {
                // 0. A token restored from the persistent cache: adopt it if lookup-self says it is still good. While
                //    Vault cannot answer it stays restored (cache lookups only) and is tried again after the backoff;
                //    with exit_on_err it is tried once, as Vault does, so that a failed login can end the process.
                var restored = _store.Restored;
                if (restored is not null && restoredTried && _options.ExitOnError)
                {
                    restored = null;
                }

                if (restored?.ExpiresAt is { } expires && expires <= _time.GetUtcNow())
                {
                    Log.RestoredExpired(_logger, restored.Accessor ?? "(none)");
                    _store.RefuseRestored(restored);
                    restored = null;
                }

                Attempt attempt;
                if (restored is not null)
                {
                    restoredTried = true;
                    attempt = await AdoptRestoredAsync(restored, cancellationToken).ConfigureAwait(false);
                    if (attempt.Token is null)
                    {
                        _metrics.AuthFailed();
                        var delay = _backoff.Next();
                        if (attempt.VaultUnavailable)
                        {
                            Log.PreloadedUnconfirmed(_logger, attempt.Error!, delay);
                        }
                        else
                        {
                            Log.PreloadedRejected(_logger, attempt.Error!, delay);
                        }

                        await WaitAsync(delay, AuthWaitReason.LoginBackoff, currentToken: null, cancellationToken, attempt.Outage).ConfigureAwait(false);
                        continue;
                    }
                }
                else
                {
                    // 1. Log in.
                    attempt = await LoginAsync(cancellationToken).ConfigureAwait(false);
                    if (attempt.Token is null)
                    {
                        _metrics.AuthFailed();
                        if (_options.ExitOnError)
                        {
                            Log.LoginFailedExiting(_logger, _method.Type, attempt.Error!);
                            return AuthOutcome.Fatal($"auto-auth: the {_method.Type} login failed and exit_on_err is set: {attempt.Error}");
                        }

                        var delay = _backoff.Next();
                        Log.LoginFailed(_logger, _method.Type, attempt.Error!, delay);
                        await WaitAsync(delay, AuthWaitReason.LoginBackoff, currentToken: null, cancellationToken, attempt.Outage).ConfigureAwait(false);
                        continue;
                    }
                }

                // 2. Publish.
                var token = attempt.Token;
                _backoff.Reset();
                _metrics.AuthSucceeded();
                if (loggedInBefore)
                {
                    _metrics.AuthRelogin();
                }

                loggedInBefore = true;
                Log.Authenticated(_logger, _method.Type, token.Accessor ?? "(none)", token.Ttl ?? TimeSpan.Zero, token.Renewable);
                _store.Publish(token);

                // 3–5. Keep it alive until a new login is needed.
                await WatchAsync(token, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return AuthOutcome.Stopped;
        }
        finally
        {
            await methodStop.CancelAsync().ConfigureAwait(false);
            await methodTask.ConfigureAwait(false);
        }
    }

    private async Task<Attempt> LoginAsync(CancellationToken cancellationToken)
    {
        // This login reads the newest credentials; a report from before it must not cause a second one.
        if (_method is ICredentialWatchingAuthMethod watching)
        {
            while (watching.NewCredentials.TryRead(out _))
            {
                // Dropped: superseded by this login.
            }
        }

        var request = await _method.PrepareLoginAsync(_client, cancellationToken).ConfigureAwait(false);
        if (request.Error is not null)
        {
            return new Attempt(null, request.Error);
        }

        if (request.ExistingToken is { } existing)
        {
            return await AdoptAsync(existing, "the token from the token file", cancellationToken).ConfigureAwait(false);
        }

        var client = request.Client ?? _client;
        var result = request.JsonBody is { } json
            ? await client.LoginAtAsync(request.LoginPath!, json, _options.WrapTtl, cancellationToken).ConfigureAwait(false)
            : await client.LoginAtAsync(request.LoginPath!, request.Body!, _options.WrapTtl, cancellationToken, request.Headers).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            return new Attempt(null, $"error logging in at {request.LoginPath}: {result.Error}", result.Error);
        }

        var now = _time.GetUtcNow();
        if (_options.WrapTtl is not null)
        {
            return result.Secret?.WrapInfo is { Token.Length: > 0 } wrap
                ? new Attempt(new AutoAuthToken(wrap.Token, wrap.Accessor, now, TimeSpan.FromSeconds(wrap.Ttl), Renewable: false) { WrapInfoJson = wrap.ToJson() }, null)
                : new Attempt(null, "wrap_ttl is set but the login response has no wrap_info");
        }

        return result.Secret?.Auth is { ClientToken.Length: > 0 } auth
            ? new Attempt(new AutoAuthToken(auth.ClientToken, auth.Accessor, now, PositiveOrNull(auth.LeaseDuration), auth.Renewable), null)
            : new Attempt(null, "the login response has no auth.client_token");
    }

    /// <summary>
    /// Step 0: lookup-self with the restored token. Vault accepts it: adopted. Vault refuses it: refused in the store
    /// (the cache drops what it holds under it). Vault cannot answer: it stays restored for the next attempt. Any
    /// other answer: dropped. Either way that Vault answered, the next wait is one <c>min_backoff</c>, then a login.
    /// </summary>
    private async Task<Attempt> AdoptRestoredAsync(AutoAuthToken restored, CancellationToken cancellationToken)
    {
        var attempt = await AdoptAsync(restored.Token, "the auto-auth token restored from the persistent cache", cancellationToken).ConfigureAwait(false);
        if (attempt.Token is not null)
        {
            Log.PreloadedAdopted(_logger, attempt.Token.Accessor ?? "(none)");
            return attempt;
        }

        var failed = attempt with { Error = $"token {restored.Accessor ?? "(none)"}: {attempt.Error}" };
        if (failed.VaultUnavailable)
        {
            return failed;
        }

        if (failed.VaultError is null or { IsTokenRejected: true })
        {
            // Refused, or an answer that does not describe a token (no data.id): Vault has said no.
            _store.RefuseRestored(restored);
        }
        else
        {
            _store.DropRestored(restored);
        }

        _backoff.Reset();
        return failed;
    }

    /// <summary>Adopts an existing token after lookup-self; <paramref name="what"/> names it in errors.</summary>
    private async Task<Attempt> AdoptAsync(string token, string what, CancellationToken cancellationToken)
    {
        var lookup = await _client.LookupSelfAsync(token, cancellationToken).ConfigureAwait(false);
        if (!lookup.IsSuccess)
        {
            return new Attempt(null, $"lookup-self with {what} failed: {lookup.Error}", lookup.Error);
        }

        var secret = lookup.Secret;
        var id = secret?.GetDataString("id");
        if (string.IsNullOrEmpty(id))
        {
            return new Attempt(null, $"lookup-self returned no data.id for {what}");
        }

        if (secret!.GetDataString("type") == "batch")
        {
            Log.BatchToken(_logger);
        }

        var ttl = TimeSpan.FromSeconds(secret.GetDataInt64("ttl") ?? 0);
        return new Attempt(new AutoAuthToken(id, secret.GetDataString("accessor"), _time.GetUtcNow(), PositiveOrNull(ttl),
            secret.GetDataBool("renewable") ?? false), null);
    }

    /// <summary>Steps 3–5: returns when a new login is needed.</summary>
    private async Task WatchAsync(AutoAuthToken token, CancellationToken cancellationToken)
    {
        // 3. Nothing to renew.
        if (token.WrapInfoJson is not null || token.ExpiresAt is null)
        {
            Log.NotRenewing(_logger, token.Accessor ?? "(none)", token.WrapInfoJson is not null ? "the login was response-wrapped" : "it has no TTL");
            await WaitAsync(Timeout.InfiniteTimeSpan, AuthWaitReason.Idle, token.Token, cancellationToken).ConfigureAwait(false);
            return;
        }

        var expiresAt = token.ExpiresAt.Value;
        var grace = TimeSpan.Zero;
        var prior = TimeSpan.Zero;
        while (true)
        {
            var remaining = expiresAt - _time.GetUtcNow();
            if (remaining > prior)
            {
                // Recomputed while the TTL still grows; once it stops (max TTL), the grace stays put.
                grace = CalculateGrace(remaining);
            }

            prior = remaining;
            if (!token.Renewable)
            {
                Log.NotRenewable(_logger, token.Accessor ?? "(none)", remaining - grace);
                if (!await WaitAsync(Max(remaining - grace, TimeSpan.Zero), AuthWaitReason.Expiry, token.Token, cancellationToken).ConfigureAwait(false))
                {
                    Log.ReauthExpiring(_logger, token.Accessor ?? "(none)");
                }

                return;
            }

            // 4. Sleep ⅔ of the remaining TTL plus ⅓ of the grace.
            var sleep = remaining * 2 / 3 + grace / 3;
            if (remaining <= grace || remaining - sleep <= grace)
            {
                Log.ReauthExpiring(_logger, token.Accessor ?? "(none)");
                return;
            }

            if (await WaitAsync(sleep, AuthWaitReason.Renewal, token.Token, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            // 5. Renew, retrying transient failures until the grace window.
            var renewed = await RenewAsync(token, expiresAt, grace, cancellationToken).ConfigureAwait(false);
            if (renewed is null)
            {
                return;
            }

            token = renewed;
            if (token.ExpiresAt is null)
            {
                Log.NotRenewing(_logger, token.Accessor ?? "(none)", "the renewal returned no TTL");
                await WaitAsync(Timeout.InfiniteTimeSpan, AuthWaitReason.Idle, token.Token, cancellationToken).ConfigureAwait(false);
                return;
            }

            expiresAt = token.ExpiresAt.Value;
        }
    }

    /// <summary>The renewed token, or null when the loop must log in again.</summary>
    private async Task<AutoAuthToken?> RenewAsync(AutoAuthToken token, DateTimeOffset expiresAt, TimeSpan grace, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _client.RenewSelfAsync(token.Token, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            if (result.IsSuccess && result.Secret?.Auth is { } auth)
            {
                _metrics.AuthSucceeded();
                _metrics.AuthRenewal(ok: true);
                _backoff.Reset();
                var renewed = token with { ObtainedAt = _time.GetUtcNow(), Ttl = PositiveOrNull(auth.LeaseDuration), Renewable = auth.Renewable };
                Log.Renewed(_logger, token.Accessor ?? "(none)", auth.LeaseDuration);
                _store.Publish(renewed);
                return renewed;
            }

            _metrics.AuthFailed();
            _metrics.AuthRenewal(ok: false);
            var error = result.Error ?? new VaultError(200, ["the renewal response has no auth block"]);
            if (error.IsTokenRejected)
            {
                Log.RenewRejected(_logger, token.Accessor ?? "(none)", error.ToString());
                return null;
            }

            var untilGrace = expiresAt - _time.GetUtcNow() - grace;
            if (untilGrace <= TimeSpan.Zero)
            {
                Log.RenewGaveUp(_logger, token.Accessor ?? "(none)", error.ToString());
                return null;
            }

            var delay = _backoff.Next();
            if (delay > untilGrace)
            {
                // One last try right at the edge of the grace window, rather than giving up early.
                delay = untilGrace;
            }

            Log.RenewFailed(_logger, token.Accessor ?? "(none)", error.ToString(), delay);
            if (await WaitAsync(delay, AuthWaitReason.RenewalBackoff, token.Token, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>Vault's lifetime watcher: a random 10–20% of the TTL is kept in hand before expiry.</summary>
    private TimeSpan CalculateGrace(TimeSpan ttl) =>
        ttl <= TimeSpan.Zero ? TimeSpan.Zero : ttl * 0.1 + ttl * (0.1 * Math.Clamp(_random(), 0, 1));

    /// <summary>
    /// Waits <paramref name="delay"/> (infinite allowed). Returns true when woken early because the proxy reported that
    /// Vault rejected <paramref name="currentToken"/>; reports about older tokens are dropped, and the channel holds at
    /// most one, so many reports cause one login. After an <paramref name="outage"/> the wait also ends, returning
    /// false, as soon as Vault is back (<see cref="VaultRecovery"/>): one attempt follows, however many signals came.
    /// </summary>
    private async Task<bool> WaitAsync(TimeSpan delay, AuthWaitReason reason, string? currentToken, CancellationToken cancellationToken, VaultError? outage = null)
    {
        if (delay != Timeout.InfiniteTimeSpan && delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(delay, _time, stop.Token);
        var until = delay == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : _time.GetUtcNow() + delay;
        var recovered = outage is null ? null : _recovery.WaitAsync(seenDown: outage.IsTransport, until, stop.Token);
        Waiting?.Invoke(new AuthLoopWait(reason, delay));
        try
        {
            while (true)
            {
                if (currentToken is null)
                {
                    if (recovered is not null && await Task.WhenAny(timer, recovered).ConfigureAwait(false) == recovered
                        && recovered.IsCompletedSuccessfully && !timer.IsCompleted)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var remaining = until - _time.GetUtcNow();
                        Log.VaultBack(_logger, remaining);
                        return false;
                    }

                    await timer.ConfigureAwait(false);
                    return false;
                }

                var report = _store.Rejections.WaitToReadAsync(stop.Token).AsTask();
                var newCredentials = _options.ReauthOnNewCredentials && _method is ICredentialWatchingAuthMethod watching
                    ? watching.NewCredentials.WaitToReadAsync(stop.Token).AsTask()
                    : Task.Delay(Timeout.InfiniteTimeSpan, stop.Token);
                var first = await Task.WhenAny(timer, report, newCredentials).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (first == timer)
                {
                    return false;
                }

                if (first == newCredentials)
                {
                    Log.NewCredentials(_logger);
                    return true;
                }

                var reported = false;
                while (_store.Rejections.TryRead(out var rejected))
                {
                    reported |= rejected == currentToken;
                }

                if (reported && await ConfirmRejectedAsync(currentToken, stop.Token).ConfigureAwait(false))
                {
                    Log.RejectedByProxy(_logger);
                    return true;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (recovered is not null)
            {
                // No probe outlives the wait.
                await recovered.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A 403 on a proxied request is also what Vault answers when the token is fine but its policy does not allow the
    /// path, so a report alone must not cause a login: an application that keeps asking for a forbidden path would
    /// then make Gatehouse log in again and again. Ask Vault with lookup-self (at most once per
    /// <see cref="RejectionCheckInterval"/>, however many reports arrive) and log in again only when Vault refuses
    /// the token itself.
    /// </summary>
    private async Task<bool> ConfirmRejectedAsync(string token, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_lastRejectionCheck is { } last && now - last < RejectionCheckInterval)
        {
            return false;
        }

        _lastRejectionCheck = now;
        var lookup = await _client.LookupSelfAsync(token, cancellationToken).ConfigureAwait(false);
        if (lookup.Error is { IsTokenRejected: true })
        {
            return true;
        }

        Log.RejectionNotConfirmed(_logger, lookup.Error);
        return false;
    }

    private async Task RunMethodAsync(IBackgroundAuthMethod method, CancellationToken cancellationToken)
    {
        try
        {
            await method.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>How often a proxy report of a 403 is checked with Vault at most; reports in between are dropped.</summary>
    internal static readonly TimeSpan RejectionCheckInterval = TimeSpan.FromSeconds(5);

    /// <summary>One attempt at a token: the token, or why not, with Vault's error when the request to Vault failed.</summary>
    private readonly record struct Attempt(AutoAuthToken? Token, string? Error, VaultError? VaultError = null)
    {
        /// <summary>Vault could not answer (down, sealed, no active node): an outage, not a verdict.</summary>
        public bool VaultUnavailable => VaultError is { IsUnavailable: true };

        /// <summary>The error when it was an outage (the wait after it ends as soon as Vault is back), else null.</summary>
        public VaultError? Outage => VaultUnavailable ? VaultError : null;
    }

    private static TimeSpan? PositiveOrNull(TimeSpan value) => value > TimeSpan.Zero ? value : null;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AuthHandlerAuthenticated, Level = LogLevel.Information, Message = "auto-auth: authenticated with {Method}; accessor {Accessor}, ttl {Ttl}, renewable {Renewable}")]
        public static partial void Authenticated(ILogger logger, string method, string accessor, TimeSpan ttl, bool renewable);

        [LoggerMessage(EventId = LogEvents.AuthHandlerLoginFailed, Level = LogLevel.Error, Message = "auto-auth: {Method} login failed: {Error}; retrying in {Delay}")]
        public static partial void LoginFailed(ILogger logger, string method, string error, TimeSpan delay);

        [LoggerMessage(EventId = LogEvents.AuthHandlerLoginFailedExiting, Level = LogLevel.Critical, Message = "auto-auth: {Method} login failed and exit_on_err is set, stopping: {Error}")]
        public static partial void LoginFailedExiting(ILogger logger, string method, string error);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRenewed, Level = LogLevel.Debug, Message = "auto-auth: renewed token (accessor {Accessor}); ttl {Ttl}")]
        public static partial void Renewed(ILogger logger, string accessor, TimeSpan ttl);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRenewFailed, Level = LogLevel.Warning, Message = "auto-auth: renewing token (accessor {Accessor}) failed: {Error}; retrying in {Delay}")]
        public static partial void RenewFailed(ILogger logger, string accessor, string error, TimeSpan delay);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRenewRejected, Level = LogLevel.Warning, Message = "auto-auth: Vault refused to renew token (accessor {Accessor}) ({Error}); logging in again")]
        public static partial void RenewRejected(ILogger logger, string accessor, string error);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRenewGaveUp, Level = LogLevel.Warning, Message = "auto-auth: token (accessor {Accessor}) is about to expire and renewal still fails ({Error}); logging in again")]
        public static partial void RenewGaveUp(ILogger logger, string accessor, string error);

        [LoggerMessage(EventId = LogEvents.AuthHandlerReauthExpiring, Level = LogLevel.Information, Message = "auto-auth: token (accessor {Accessor}) is near its max TTL or expiry; logging in again")]
        public static partial void ReauthExpiring(ILogger logger, string accessor);

        [LoggerMessage(EventId = LogEvents.AuthHandlerNotRenewing, Level = LogLevel.Information, Message = "auto-auth: not renewing token (accessor {Accessor}): {Reason}")]
        public static partial void NotRenewing(ILogger logger, string accessor, string reason);

        [LoggerMessage(EventId = LogEvents.AuthHandlerNotRenewable, Level = LogLevel.Information, Message = "auto-auth: token (accessor {Accessor}) is not renewable; logging in again in {Delay}")]
        public static partial void NotRenewable(ILogger logger, string accessor, TimeSpan delay);

        [LoggerMessage(EventId = LogEvents.AuthHandlerNewCredentials, Level = LogLevel.Information, Message = "auto-auth: auth method found new credentials, re-authenticating")]
        public static partial void NewCredentials(ILogger logger);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRejectedByProxy, Level = LogLevel.Warning, Message = "auto-auth: Vault rejected the auto-auth token on a proxied request; logging in again")]
        public static partial void RejectedByProxy(ILogger logger);

        [LoggerMessage(EventId = LogEvents.AuthHandlerBatchToken, Level = LogLevel.Information, Message = "auto-auth: the token file holds a batch token; it cannot be renewed")]
        public static partial void BatchToken(ILogger logger);

        [LoggerMessage(EventId = LogEvents.AuthHandlerPreloadedRejected, Level = LogLevel.Warning, Message = "auto-auth: the token restored from the persistent cache cannot be used ({Error}); logging in after {Delay}")]
        public static partial void PreloadedRejected(ILogger logger, string error, TimeSpan delay);

        [LoggerMessage(EventId = LogEvents.AuthHandlerPreloadedAdopted, Level = LogLevel.Information, Message = "auto-auth: adopted token (accessor {Accessor}) restored from the persistent cache")]
        public static partial void PreloadedAdopted(ILogger logger, string accessor);

        [LoggerMessage(EventId = LogEvents.AuthHandlerPreloadedUnconfirmed, Level = LogLevel.Warning, Message = "auto-auth: cannot confirm the token restored from the persistent cache yet ({Error}); until Vault answers it serves cache lookups only; trying again in {Delay}")]
        public static partial void PreloadedUnconfirmed(ILogger logger, string error, TimeSpan delay);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRestoredExpired, Level = LogLevel.Information, Message = "auto-auth: the token (accessor {Accessor}) restored from the persistent cache has expired; logging in")]
        public static partial void RestoredExpired(ILogger logger, string accessor);

        [LoggerMessage(EventId = LogEvents.AuthHandlerVaultBack, Level = LogLevel.Information, Message = "auto-auth: Vault is answering again; trying now instead of in {Remaining}")]
        public static partial void VaultBack(ILogger logger, TimeSpan remaining);

        [LoggerMessage(EventId = LogEvents.AuthHandlerRejectionNotConfirmed, Level = LogLevel.Debug, Message = "auto-auth: a proxied request with the auto-auth token got 403, but Vault did not refuse the token itself (lookup-self error: {LookupError}); not logging in again")]
        public static partial void RejectionNotConfirmed(ILogger logger, VaultError? lookupError);
    }
}

/// <summary>The auth loop's settings, from <c>auto_auth.method</c>.</summary>
internal sealed record AuthHandlerOptions
{
    public TimeSpan MinBackoff { get; init; } = Configuration.Defaults.MinBackoff;

    public TimeSpan MaxBackoff { get; init; } = Configuration.Defaults.MaxBackoff;

    public bool ExitOnError { get; init; }

    /// <summary>When set, logins are response-wrapped and the token is not renewed.</summary>
    public TimeSpan? WrapTtl { get; init; }

    /// <summary>
    /// <c>enable_reauth_on_new_credentials</c>: a method's report of new credentials (<see cref="ICredentialWatchingAuthMethod"/>)
    /// ends the wait on the current token and logs in again. The default is false (the report is ignored, as in Vault).
    /// </summary>
    public bool ReauthOnNewCredentials { get; init; }

    /// <summary>Backoff and grace jitter source, values in [0, 1). Null means <see cref="Random.Shared"/>.</summary>
    public Func<double>? Random { get; init; }
}

/// <summary>How <see cref="AuthHandler.RunAsync"/> ended.</summary>
internal sealed record AuthOutcome(int ExitCode, string? Message)
{
    /// <summary>Stopped by shutdown.</summary>
    public static readonly AuthOutcome Stopped = new(0, null);

    public bool IsFatal => ExitCode != 0;

    /// <summary>exit_on_err: the process should exit with code 1 after printing <paramref name="message"/>.</summary>
    public static AuthOutcome Fatal(string message) => new(1, message);

    /// <summary>exit_after_auth: every sink has the first token; the process should exit with code 0.</summary>
    public static AuthOutcome ExitAfterAuth { get; } = new(0, null);
}

internal enum AuthWaitReason
{
    /// <summary>After a failed login.</summary>
    LoginBackoff,

    /// <summary>Until the next renewal (⅔ of the TTL).</summary>
    Renewal,

    /// <summary>After a failed renewal.</summary>
    RenewalBackoff,

    /// <summary>A non-renewable token: until its grace window.</summary>
    Expiry,

    /// <summary>Nothing to do until a rejection report or shutdown.</summary>
    Idle,
}

/// <summary>One wait of the auth loop (see <see cref="AuthHandler.Waiting"/>).</summary>
internal readonly record struct AuthLoopWait(AuthWaitReason Reason, TimeSpan Delay);
