using System.Net;
using Gatehouse.AutoAuth;
using Gatehouse.Tests.TestSupport;
using static Gatehouse.Tests.TestSupport.FakeVaultHandler;

namespace Gatehouse.Tests.AutoAuth;

public sealed class AuthHandlerTests
{
    private const string LoginPath = "/v1/auth/approle/login";
    private const string RenewPath = "/v1/auth/token/renew-self";
    private const string LookupSelfPath = "/v1/auth/token/lookup-self";

    [Fact]
    public async Task AuthHandler_AfterLogin_RenewsAtTwoThirdsOfTtlPlusAThirdOfGrace()
    {
        var vault = new FakeVaultHandler(r => r.Path == LoginPath ? Login("s.first", 300) : Login("s.first", 300));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        // Grace with no jitter is 10% of 300s = 30s; sleep = 200s + 10s.
        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(TimeSpan.FromSeconds(210), wait.Delay);
        Assert.Equal("s.first", loop.Store.Current?.Token);
        Assert.Equal(0, vault.Count("PUT", RenewPath));

        // Release the first renewal and read the next wait without advancing past it: the loop is then quiescent.
        loop.Time.Advance(wait.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await loop.NextWaitAsync()).Reason);
        Assert.Equal(1, vault.Count("PUT", RenewPath));
        Assert.Equal(1, vault.Count("PUT", LoginPath));
        var renew = vault.Requests.Single(r => r.Path == RenewPath);
        Assert.Equal("s.first", renew.Token);
        Assert.Equal("""{"increment":0}""", renew.Body);
        Assert.StartsWith("Gatehouse Auto-Auth/", renew.UserAgent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthHandler_WhenVaultDownDuringRenewal_RetriesWithGrowingBackoffThenRecovers()
    {
        var down = false;
        var vault = new FakeVaultHandler(r => r.Path == LoginPath
            ? Login("s.one", 3600)
            : down ? Error(HttpStatusCode.InternalServerError, "internal error") : Login("s.one", 3600));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        down = true;
        await loop.ElapseAsync(AuthWaitReason.Renewal);
        var schedule = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var wait = await loop.NextWaitAsync();
            Assert.Equal(AuthWaitReason.RenewalBackoff, wait.Reason);
            schedule.Add(wait.Delay.TotalSeconds);

            // Vault comes back before the clock releases the last retry: the loop runs on as soon as time advances.
            if (i == 5)
            {
                down = false;
            }

            loop.Time.Advance(wait.Delay);
        }

        Assert.Equal([1, 2, 4, 8, 16, 32], schedule);
        var next = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, next.Reason);
        Assert.Equal(1, vault.Count("PUT", LoginPath));
        Assert.Equal(7, vault.Count("PUT", RenewPath));
        Assert.Equal("s.one", loop.Store.Current?.Token);
    }

    [Fact]
    public async Task AuthHandler_RenewalFailures_AreRetriedUntilTheGraceWindowThenLogsInAgain()
    {
        var vault = new FakeVaultHandler(r => r.Path == LoginPath ? Login("s.one", 3600) : Error(HttpStatusCode.BadGateway, "down"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        // Renewal at 2400s + 120s; expiry at 3600s; grace 360s: 720s of retries are left.
        await loop.ElapseAsync(AuthWaitReason.Renewal);
        var schedule = new List<double>();
        AuthLoopWait wait;
        while ((wait = await loop.NextWaitAsync()).Reason == AuthWaitReason.RenewalBackoff)
        {
            schedule.Add(wait.Delay.TotalSeconds);
            loop.Time.Advance(wait.Delay);
        }

        // 1+2+…+256 = 511s, then the 300s step is cut to the 209s left before the grace window.
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 209], schedule);
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(2, vault.Count("PUT", LoginPath));
    }

    [Fact]
    public async Task AuthHandler_WithVaultAnswering500Forever_MakesABoundedNumberOfAttempts()
    {
        var vault = new FakeVaultHandler(_ => Error(HttpStatusCode.InternalServerError, "sealed"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        var elapsed = TimeSpan.Zero;
        while (elapsed < TimeSpan.FromMinutes(60))
        {
            var wait = await loop.ElapseAsync(AuthWaitReason.LoginBackoff);
            Assert.True(wait.Delay >= TimeSpan.FromSeconds(1));
            elapsed += wait.Delay;
        }

        // No jitter: the first attempt and one after each of 9 doubling steps (511 s), then one per 5 minutes: 10 more
        // by the time the next wait would end past the hour.
        Assert.Equal(20, vault.Requests.Count);
        Assert.Null(loop.Store.Current);
    }

    [Fact]
    public async Task AuthHandler_WhenTokenReachesMaxTtl_LogsInAgain()
    {
        var renewals = 0;
        var logins = 0;
        var vault = new FakeVaultHandler(r =>
        {
            if (r.Path == LoginPath)
            {
                logins++;
                return Login($"s.login{logins}", 300);
            }

            // The max TTL caps each renewal shorter than the last.
            renewals++;
            return Login(r.Token!, renewals == 1 ? 150 : 60);
        });
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        Assert.Equal(TimeSpan.FromSeconds(210), (await loop.ElapseAsync(AuthWaitReason.Renewal)).Delay); // renewed: 150s left
        Assert.Equal(TimeSpan.FromSeconds(110), (await loop.ElapseAsync(AuthWaitReason.Renewal)).Delay); // renewed: 60s left

        // 60s − (40s + 10s) would land inside the 30s grace window: the max TTL is near, so log in again.
        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(TimeSpan.FromSeconds(210), wait.Delay);
        Assert.Equal(2, renewals);
        Assert.Equal(2, logins);
        Assert.Equal("s.login2", loop.Store.Current?.Token);
    }

    [Fact]
    public async Task AuthHandler_WhenRenewalIsRefused_LogsInAgainAtOnce()
    {
        var logins = 0;
        var vault = new FakeVaultHandler(r => r.Path == LoginPath
            ? Login($"s.login{++logins}", 300)
            : Error(HttpStatusCode.Forbidden, "permission denied"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        await loop.ElapseAsync(AuthWaitReason.Renewal);
        await loop.NextWaitAsync();
        Assert.Equal(2, logins);
        Assert.Equal(["s.login1", "s.login2"], loop.Published.Select(t => t.Token).Distinct());
    }

    [Fact]
    public async Task AuthHandler_SeveralRejectionReports_CauseOneLogin()
    {
        // Vault has revoked s.login1: lookup-self with it is refused.
        var logins = 0;
        var vault = new FakeVaultHandler(r => r.Path == LookupSelfPath
            ? r.Token == "s.login1" ? Error(HttpStatusCode.Forbidden, "permission denied") : Login(r.Token!, 300)
            : Login($"s.login{++logins}", 300));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        await loop.NextWaitAsync();
        for (var i = 0; i < 5; i++)
        {
            loop.Store.ReportRejected("s.login1");
        }

        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(2, logins);

        // A late report about the old token is ignored.
        loop.Store.ReportRejected("s.login1");
        loop.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, logins);
        Assert.Equal("s.login2", loop.Store.Current?.Token);
    }

    [Fact]
    public async Task AuthHandler_RejectionReportsForAValidToken_AreCheckedAtMostEveryFewSeconds_AndCauseNoLogin()
    {
        // A 403 from a policy denial: the token itself is fine, so lookup-self succeeds.
        var logins = 0;
        var vault = new FakeVaultHandler(r => r.Path == LookupSelfPath ? Login(r.Token!, 300) : Login($"s.login{++logins}", 300));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();
        var renewal = await loop.NextWaitAsync();

        // A burst of reports: one lookup-self, no login.
        for (var i = 0; i < 50; i++)
        {
            loop.Store.ReportRejected("s.login1");
        }

        await vault.WaitForRequestAsync("GET", LookupSelfPath, 1);

        // More reports inside the check interval are dropped without asking Vault again.
        loop.Time.Advance(AuthHandler.RejectionCheckInterval - TimeSpan.FromSeconds(1));
        loop.Store.ReportRejected("s.login1");

        // After the interval, the next report is checked again.
        loop.Time.Advance(TimeSpan.FromSeconds(1));
        loop.Store.ReportRejected("s.login1");
        await vault.WaitForRequestAsync("GET", LookupSelfPath, 2);

        Assert.Equal(1, logins);
        Assert.Equal(2, vault.Count("GET", LookupSelfPath));
        Assert.Equal("s.login1", loop.Store.Current?.Token);
        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
    }

    [Fact]
    public async Task AuthHandler_WithExitOnErr_FirstLoginFailureIsFatal()
    {
        var vault = new FakeVaultHandler(_ => Error(HttpStatusCode.BadRequest, "invalid role ID"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient(),
            new AuthHandlerOptions { ExitOnError = true, Random = () => 0 }).Start();

        var outcome = await loop.Run!;
        Assert.True(outcome.IsFatal);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("exit_on_err", outcome.Message, StringComparison.Ordinal);
        Assert.Contains("invalid role ID", outcome.Message, StringComparison.Ordinal);
        Assert.Single(vault.Requests);
    }

    [Fact]
    public async Task AuthHandler_WithExitOnErr_RenewalFailuresDoNotExit()
    {
        var vault = new FakeVaultHandler(r => r.Path == LoginPath ? Login("s.one", 300) : Error(HttpStatusCode.ServiceUnavailable, "sealed"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient(),
            new AuthHandlerOptions { ExitOnError = true, Random = () => 0 }).Start();

        await loop.ElapseAsync(AuthWaitReason.Renewal);
        await loop.ElapseAsync(AuthWaitReason.RenewalBackoff);

        // Still running: it reached the next backoff (NextWaitAsync fails if the loop ended) and is waiting there.
        Assert.Equal(AuthWaitReason.RenewalBackoff, (await loop.NextWaitAsync()).Reason);
        Assert.False(loop.Run!.IsCompleted);
    }

    [Fact]
    public async Task AuthHandler_WithWrapTtl_PublishesWrapInfoAndDoesNotRenew()
    {
        var vault = new FakeVaultHandler(_ => Wrapped("s.wrapping", 300, "auth/approle/login"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient(),
            new AuthHandlerOptions { WrapTtl = TimeSpan.FromMinutes(5), Random = () => 0 }).Start();

        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Idle, wait.Reason);
        Assert.Equal("5m0s", vault.Requests.Single().WrapTtl);
        Assert.Equal(
            """{"token":"s.wrapping","accessor":"wacc","ttl":300,"creation_time":"2024-01-02T03:04:05Z","creation_path":"auth/approle/login","wrapped_accessor":"acc-w"}""",
            loop.Store.Current?.WrapInfoJson);
        loop.Time.Advance(TimeSpan.FromHours(10));
        Assert.Single(vault.Requests);
    }

    [Fact]
    public async Task AuthHandler_TokenWithoutTtl_IsNotRenewed()
    {
        var vault = new FakeVaultHandler(_ => Login("s.root", 0, renewable: false));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Idle, wait.Reason);
        loop.Time.Advance(TimeSpan.FromDays(30));
        Assert.Single(vault.Requests);
        Assert.Null(loop.Store.Current?.Ttl);
    }

    [Fact]
    public async Task AuthHandler_NonRenewableToken_LogsInAgainBeforeExpiry()
    {
        var logins = 0;
        var vault = new FakeVaultHandler(_ => Login($"s.batch{++logins}", 100, renewable: false));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        var wait = await loop.ElapseAsync(AuthWaitReason.Expiry);
        Assert.Equal(TimeSpan.FromSeconds(90), wait.Delay);
        await loop.NextWaitAsync();
        Assert.Equal(2, logins);
        Assert.Equal(0, vault.Count("PUT", RenewPath));
    }

    [Fact]
    public async Task AuthHandler_MethodFailure_IsLoggedAndBackedOff()
    {
        var vault = new FakeVaultHandler(_ => Login("s.x", 300));
        await using var loop = new AuthLoopDriver(new StubMethod(() => LoginRequest.Failed("no known role ID: /etc/role does not exist")), vault.CreateClient()).Start();

        Assert.Equal(TimeSpan.FromSeconds(1), (await loop.ElapseAsync(AuthWaitReason.LoginBackoff)).Delay);
        Assert.Equal(TimeSpan.FromSeconds(2), (await loop.ElapseAsync(AuthWaitReason.LoginBackoff)).Delay);
        Assert.Empty(vault.Requests);
        Assert.Contains(loop.Logs.GetSnapshot(), r => r.Message.Contains("/etc/role does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AuthHandler_LogsAtTrace_NeverContainTokens()
    {
        var logins = 0;
        var vault = new FakeVaultHandler(r => r.Path == LoginPath
            ? Login($"hvs.SECRET-TOKEN-{++logins}", 300)
            : Error(HttpStatusCode.Forbidden, "permission denied"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient()).Start();

        await loop.ElapseAsync(AuthWaitReason.Renewal);
        await loop.NextWaitAsync();
        var text = string.Join("\n", loop.Logs.GetSnapshot().Select(r => r.Message + " " + string.Join(",", r.StructuredState?.Select(kv => kv.Value) ?? [])));
        Assert.Contains("acc-1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-TOKEN", text, StringComparison.Ordinal);
    }

    private static HttpResponseMessage LookupSelf(string token, int ttl, string accessor = "acc-restored") =>
        Json(HttpStatusCode.OK, $$$"""{"data":{"id":"{{{token}}}","accessor":"{{{accessor}}}","ttl":{{{ttl}}},"renewable":true,"type":"service"}}""");

    private static AutoAuthToken Restored(AuthLoopDriver loop, string token = "s.restored") =>
        new(token, "acc-restored", loop.Time.GetUtcNow(), TimeSpan.FromMinutes(30), Renewable: true);

    [Fact]
    public async Task AuthHandler_RestoredToken_WhileVaultIsDown_StaysRestoredAndIsAdoptedWhenVaultAnswers()
    {
        var down = true;
        var vault = new FakeVaultHandler(r => down
            ? throw new HttpRequestException("Connection refused")
            : r.Path == LookupSelfPath ? LookupSelf(r.Token!, 1800) : Login("s.fresh", 3600));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        var restored = Restored(loop);
        loop.Store.Preload(restored);
        loop.Start();

        // Vault cannot answer: no login, the restored token stays for cache lookups and is tried again.
        Assert.Equal(TimeSpan.FromSeconds(1), (await loop.ElapseAsync(AuthWaitReason.LoginBackoff)).Delay);
        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, wait.Reason);
        Assert.Equal(TimeSpan.FromSeconds(2), wait.Delay);
        Assert.Same(restored, loop.Store.Restored);
        Assert.Null(loop.Store.Current);
        Assert.Equal(2, vault.Count("GET", LookupSelfPath));
        Assert.Equal(0, vault.Count("PUT", LoginPath));

        // Vault is back: lookup-self confirms it; adopted as it is, without a login.
        down = false;
        loop.Time.Advance(wait.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await loop.NextWaitAsync()).Reason);
        Assert.Equal("s.restored", loop.Store.Current?.Token);
        Assert.Null(loop.Store.Restored);
        Assert.Equal(0, vault.Count("PUT", LoginPath));
        Assert.All(vault.Requests, r => Assert.Equal("s.restored", r.Token));
    }

    [Fact]
    public async Task AuthHandler_RestoredToken_RefusedOnceVaultAnswers_IsRefusedAndALoginFollowsAfterMinBackoff()
    {
        var down = true;
        var vault = new FakeVaultHandler(r => down
            ? Error(HttpStatusCode.ServiceUnavailable, "Vault is sealed")
            : r.Path == LookupSelfPath ? Error(HttpStatusCode.Forbidden, "permission denied") : Login("s.fresh", 3600));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        var refused = new List<AutoAuthToken>();
        loop.Store.RestoredRefused += refused.Add;
        var restored = Restored(loop);
        loop.Store.Preload(restored);
        loop.Start();

        // Sealed: Vault cannot answer yet; the backoff grows.
        await loop.ElapseAsync(AuthWaitReason.LoginBackoff);
        await loop.ElapseAsync(AuthWaitReason.LoginBackoff);
        var third = await loop.NextWaitAsync();
        Assert.Equal(TimeSpan.FromSeconds(4), third.Delay);
        down = false;
        loop.Time.Advance(third.Delay);

        // Vault refuses it: dropped (once), then one min_backoff and a fresh login.
        var wait = await loop.NextWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, wait.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), wait.Delay);
        Assert.Same(restored, Assert.Single(refused));
        Assert.Null(loop.Store.Restored);
        Assert.Equal(0, vault.Count("PUT", LoginPath));
        loop.Time.Advance(wait.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await loop.NextWaitAsync()).Reason);
        Assert.Equal("s.fresh", loop.Store.Current?.Token);
        Assert.Equal(4, vault.Count("GET", LookupSelfPath));
    }

    [Fact]
    public async Task AuthHandler_RestoredToken_WithExitOnErr_IsTriedOnceThenTheLoginDecides()
    {
        var vault = new FakeVaultHandler(_ => throw new HttpRequestException("Connection refused"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient(), new AuthHandlerOptions { Random = () => 0, ExitOnError = true });
        loop.Store.Preload(Restored(loop));
        loop.Start();

        await loop.ElapseAsync(AuthWaitReason.LoginBackoff);
        var outcome = await loop.Run!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(outcome.IsFatal);
        Assert.Equal(1, vault.Count("GET", LookupSelfPath));
        Assert.Equal(1, vault.Count("PUT", LoginPath));
    }

    [Fact]
    public async Task AuthHandler_RestoredToken_ThatExpiredDuringTheOutage_IsRefusedAndALoginFollows()
    {
        var down = true;
        var vault = new FakeVaultHandler(r => down ? throw new HttpRequestException("Connection refused") : Login("s.fresh", 3600));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        var refused = new List<AutoAuthToken>();
        loop.Store.RestoredRefused += refused.Add;
        loop.Store.Preload(new AutoAuthToken("s.restored", "acc-restored", loop.Time.GetUtcNow(), TimeSpan.FromSeconds(2), Renewable: true));
        loop.Start();

        await loop.ElapseAsync(AuthWaitReason.LoginBackoff);
        var second = await loop.NextWaitAsync();
        down = false;
        loop.Time.Advance(second.Delay); // 3 s: past its TTL
        Assert.Equal(AuthWaitReason.Renewal, (await loop.NextWaitAsync()).Reason);
        Assert.Equal("s.fresh", loop.Store.Current?.Token);
        Assert.Single(refused);
        Assert.Equal(2, vault.Count("GET", LookupSelfPath));
    }

    private const string HealthPath = "/v1/sys/health";

    /// <summary>Lets the loop fail with <paramref name="failure"/> until its login backoff reaches 16 s; returns that wait.</summary>
    private static async Task<AuthLoopWait> BackoffOf16sAsync(AuthLoopDriver loop)
    {
        foreach (var seconds in new[] { 1, 2, 4, 8 })
        {
            Assert.Equal(TimeSpan.FromSeconds(seconds), (await loop.ElapseAsync(AuthWaitReason.LoginBackoff)).Delay);
        }

        var wait = await loop.NextWaitAsync();
        Assert.Equal(TimeSpan.FromSeconds(16), wait.Delay);
        return wait;
    }

    [Fact]
    public async Task AuthHandler_AfterLoginsGotNoAnswer_TheFirstProbeThatFindsVaultEndsTheBackoff()
    {
        var down = true;
        var vault = new FakeVaultHandler(r => down
            ? throw new HttpRequestException("Connection refused")
            : r.Path == HealthPath ? Json(HttpStatusCode.OK, """{"initialized":true,"sealed":false}""") : Login("s.back", 3600));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        var armed = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        loop.Handler.Recovery.Armed += () => armed.Writer.TryWrite(true);
        loop.Start();
        await BackoffOf16sAsync(loop);

        // Still down: the probe finds nothing and the next one is armed.
        while (armed.Reader.TryRead(out _))
        {
        }

        loop.Time.Advance(TimeSpan.FromSeconds(2));
        await armed.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(loop.Store.Current);

        // Back: 2 s later, not 14, the probe finds it and the loop logs in once.
        down = false;
        loop.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AuthWaitReason.Renewal, (await loop.NextWaitAsync()).Reason);
        Assert.Equal("s.back", loop.Store.Current?.Token);
        Assert.Equal(2, vault.Count("GET", HealthPath));
        Assert.Equal(5 + 1, vault.Count("PUT", LoginPath));
        Assert.All(vault.Requests.Where(r => r.Path == HealthPath), r => Assert.Null(r.Token));
    }

    [Fact]
    public async Task AuthHandler_LoginRefusedByVault_IsNotAnOutage_NoProbeShortensTheBackoff()
    {
        var vault = new FakeVaultHandler(r => r.Path == HealthPath
            ? Json(HttpStatusCode.OK, "{}")
            : Error(HttpStatusCode.BadRequest, "invalid role or secret ID"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        loop.Start();
        await BackoffOf16sAsync(loop);

        loop.Time.Advance(TimeSpan.FromSeconds(16));
        Assert.Equal(TimeSpan.FromSeconds(32), (await loop.NextWaitAsync()).Delay);
        Assert.Equal(0, vault.Count("GET", HealthPath));
        Assert.Equal(6, vault.Count("PUT", LoginPath));
    }

    [Fact]
    public async Task AuthHandler_LoginAnswers503WhileHealthSaysReady_ProbesDoNotTurnTheBackoffIntoALoginStorm()
    {
        var vault = new FakeVaultHandler(r => r.Path == HealthPath
            ? Json(HttpStatusCode.OK, "{}")
            : Error(HttpStatusCode.ServiceUnavailable, "no active node"));
        await using var loop = new AuthLoopDriver(new StubMethod(), vault.CreateClient());
        var armed = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        loop.Handler.Recovery.Armed += () => armed.Writer.TryWrite(true);
        loop.Start();
        await BackoffOf16sAsync(loop);
        while (armed.Reader.TryRead(out _))
        {
        }

        // Vault never looked down to the probes: they do not end the wait.
        for (var i = 0; i < 5; i++)
        {
            loop.Time.Advance(TimeSpan.FromSeconds(2));
            await armed.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(5, vault.Count("GET", HealthPath));
        Assert.Equal(5, vault.Count("PUT", LoginPath));
    }
}
