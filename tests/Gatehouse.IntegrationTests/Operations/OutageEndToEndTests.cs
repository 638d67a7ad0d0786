using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// Vault outages end to end: the real host (HCL through the loader, approle auto-auth, <c>use_auto_auth_token</c>, a
/// cache) against DevVault whose listener is stopped and started again. What is served while Vault is away, what
/// fails, and how Gatehouse comes back.
/// </summary>
public sealed class OutageEndToEndTests
{
    private const string Login = "/v1/auth/approle/login";
    private const string Health = "/v1/sys/health";

    /// <summary>The approle deployment of <see cref="OpsHarness.Hcl"/> with a persistent cache, restartable (the secret_id file stays).</summary>
    private static string PersistentHcl(OpsHarness h) => h.Hcl(cache: false, method: "remove_secret_id_file_after_reading = false", extra: $$"""
        cache {
          persist "file" {
            path              = "{{h.PathOf("store")}}"
            key_file          = "{{h.PathOf("cache.key")}}"
            keep_after_import = true
          }
        }
        """);

    /// <summary>Starts Gatehouse with a persistent cache and waits for its first login; returns the HCL.</summary>
    private static async Task<string> StartPersistentAsync(OpsHarness h)
    {
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await File.WriteAllTextAsync(h.PathOf("cache.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var hcl = PersistentHcl(h);
        await h.StartGatehouseAsync(hcl);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        return hcl;
    }

    private static string? XCache(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;

    private static string LeaseOf(string body) => JsonNode.Parse(body)!["lease_id"]!.GetValue<string>();

    private static LeaseCache Cache(OpsHarness h) => h.Host.Services.GetRequiredService<LeaseCache>();

    [Fact]
    public async Task RestartWithVaultDown_AutoAuthClientsGetTheRestoredCache_GuardedAndMissesAnswer503()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var hcl = await StartPersistentAsync(h);
        var token = h.Host.TokenStore.Current!;
        Assert.NotNull(token.Accessor);

        // A leased secret that happens to hold the auto-auth token's accessor: the token guard masks it.
        await h.RootAsync(HttpMethod.Put, "secret/echo", new { note = $"accessor {token.Accessor}", ttl = "30m" });
        var (status, body, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, status);
        Assert.Equal("MISS", XCache(response));
        var lease = LeaseOf(body);
        var (echoStatus, echoBody, _) = await h.SendAsync(HttpMethod.Get, "/v1/secret/echo");
        Assert.Equal(200, echoStatus);
        Assert.DoesNotContain(token.Accessor, echoBody, StringComparison.Ordinal);

        // Gatehouse restarts while Vault is down: the saved auto-auth token cannot be confirmed.
        await h.StopGatehouseAsync();
        await h.Vault.Faults.StopListenerAsync();
        await h.StartGatehouseAsync(hcl, firstTokenWait: TimeSpan.Zero);

        // A request relying on the auto-auth token is a hit at once, with the same lease.
        (status, body, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, status);
        Assert.Equal("HIT", XCache(response));
        Assert.Equal(lease, LeaseOf(body));
        Assert.Null(h.Host.TokenStore.Current);

        // The hit made with the restored token goes through the token guard too.
        (echoStatus, echoBody, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/echo");
        Assert.Equal(200, echoStatus);
        Assert.Equal("HIT", XCache(response));
        Assert.DoesNotContain(token.Accessor, echoBody, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Token, echoBody, StringComparison.Ordinal);
        Assert.Contains(new string('*', token.Accessor.Length), echoBody, StringComparison.Ordinal);

        // A miss is never sent with the unconfirmed token: it waits for a confirmed one (here: not at all) and fails.
        var (missStatus, missBody, _) = await h.SendAsync(HttpMethod.Get, "/v1/secret/other");
        Assert.Equal(503, missStatus);
        Assert.Contains("no auto-auth token is available yet", missBody, StringComparison.Ordinal);

        // A client with its own token whose answer is not cached gets Vault's unreachability, as before.
        var (ownStatus, _, _) = await h.SendAsync(HttpMethod.Get, "/v1/secret/other", token: h.Vault.RootToken);
        Assert.Equal(502, ownStatus);
    }

    [Fact]
    public async Task RestoredTokenRevokedDuringTheOutage_WhenVaultAnswers_ItAndItsEntriesAreDroppedAndALoginFollows()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var hcl = await StartPersistentAsync(h);
        var token = h.Host.TokenStore.Current!.Token;
        var (_, body, _) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        var lease = LeaseOf(body);

        await h.StopGatehouseAsync();
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token });
        await h.Vault.Faults.StopListenerAsync();
        await h.StartGatehouseAsync(hcl, firstTokenWait: TimeSpan.Zero);

        // Vault cannot say yet that the token is gone: the restored entries answer.
        var wait = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, wait.Reason);
        var (status, _, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, status);
        Assert.Equal("HIT", XCache(response));

        // Vault is back and refuses it: the token and what was cached under it leave; one min_backoff, then a login.
        await h.Vault.Faults.RestartListenerAsync();
        h.Time.Advance(wait.Delay);
        var next = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, next.Reason);
        Assert.Null(h.Host.TokenStore.Restored);
        Assert.Null(Cache(h).Index.GetByToken(token));
        Assert.Null(Cache(h).Index.GetByLease(lease));
        Assert.Equal(503, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        h.Time.Advance(next.Delay);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(token, h.Host.TokenStore.Current!.Token);
        (status, body, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, status);
        Assert.Equal("MISS", XCache(response));
        Assert.NotEqual(lease, LeaseOf(body));
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
    }

    /// <summary>
    /// Starts Gatehouse while Vault is down and lets the login backoff grow until a wait of at least
    /// <paramref name="atLeast"/>; returns that wait (the loop is in it, Vault still down).
    /// </summary>
    private static async Task<AuthLoopWait> StartWithVaultDownAsync(OpsHarness h, TimeSpan atLeast)
    {
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.Vault.Faults.StopListenerAsync();
        await h.StartGatehouseAsync(h.Hcl());
        while (true)
        {
            var wait = await h.NextAuthWaitAsync();
            Assert.Equal(AuthWaitReason.LoginBackoff, wait.Reason);
            if (wait.Delay >= atLeast)
            {
                return wait;
            }

            h.Time.Advance(wait.Delay);
        }
    }

    [Fact]
    public async Task VaultBack_AProxiedAnswer_MakesGatehouseLogInAtOnce_OnceForManyAnswers()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await StartWithVaultDownAsync(h, TimeSpan.FromSeconds(30));
        Assert.Null(h.Host.TokenStore.Current);

        // Vault is back. Clients with their own token get through at once; the answers tell Gatehouse.
        await h.Vault.Faults.RestartListenerAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => h.SendAsync(HttpMethod.Get, "/v1/secret/db", token: h.Vault.RootToken)));
        Assert.All(answers, a => Assert.Equal(200, a.Status));

        // No time has passed on the clock: the login did not wait for the backoff, and ten answers made one login.
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        await h.WaitForLogAsync("Vault is answering again");
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task VaultBack_WithNoTraffic_AHealthProbeMakesGatehouseLogInWithinTwoSeconds()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await StartWithVaultDownAsync(h, TimeSpan.FromSeconds(30));

        await h.Vault.Faults.RestartListenerAsync();
        h.Time.Advance(TimeSpan.FromSeconds(2));

        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", Health));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
    }

    [Fact]
    public async Task VaultBackButSealed_NoLoginUntilUnsealed_ThenOneAtTheNextProbe()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await StartWithVaultDownAsync(h, TimeSpan.FromSeconds(30));

        var armed = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        h.Host.Services.GetRequiredService<AuthHandler>().Recovery.Armed += () => armed.Writer.TryWrite(true);
        Task ProbeArmedAsync() => armed.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);

        // Vault answers again, sealed: a proxied 503 makes Gatehouse probe at once, and the probe says not yet; so do
        // the periodic probes after it. Nothing logs in.
        h.Vault.Faults.Seal();
        await h.Vault.Faults.RestartListenerAsync();
        Assert.Equal(503, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token: h.Vault.RootToken)).Status);
        await ProbeArmedAsync();
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", Health));
        h.Time.Advance(VaultRecovery.ProbeInterval);
        await ProbeArmedAsync();
        h.Time.Advance(VaultRecovery.ProbeInterval);
        await ProbeArmedAsync();
        Assert.Equal(3, h.Vault.Faults.CountRequests("GET", Health));
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        // Unsealed: the next probe finds it ready, and one login follows.
        h.Vault.Faults.Unseal();
        h.Time.Advance(VaultRecovery.ProbeInterval);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task RestartWithVaultDown_WhenVaultReturns_TheRestoredTokenIsConfirmedAndTheCacheKeepsServing()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var hcl = await StartPersistentAsync(h);
        var token = h.Host.TokenStore.Current!.Token;
        var (_, body, _) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        var lease = LeaseOf(body);

        await h.StopGatehouseAsync();
        await h.Vault.Faults.StopListenerAsync();
        await h.StartGatehouseAsync(hcl, firstTokenWait: TimeSpan.Zero);
        while (true)
        {
            var wait = await h.NextAuthWaitAsync();
            if (wait.Delay >= TimeSpan.FromSeconds(30))
            {
                break;
            }

            h.Time.Advance(wait.Delay);
        }

        // Vault is back: within one probe the restored token is confirmed (lookup-self), not replaced by a login.
        await h.Vault.Faults.RestartListenerAsync();
        h.Time.Advance(TimeSpan.FromSeconds(2));
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        Assert.Equal(token, h.Host.TokenStore.Current!.Token);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var (status, again, response) = await h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        Assert.Equal(200, status);
        Assert.Equal("HIT", XCache(response));
        Assert.Equal(lease, LeaseOf(again));
    }
}
