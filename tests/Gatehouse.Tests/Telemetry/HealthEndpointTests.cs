using System.Text;
using Gatehouse.AutoAuth;
using Gatehouse.Hosting;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Telemetry;

public sealed class HealthEndpointTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.Zero));

    private static async Task<(int Status, string Body)> GetAsync(HealthEndpoint endpoint, string method = "GET", string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query);
        var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.HandleAsync(context);
        Assert.Equal("application/json", context.Response.ContentType);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task Health_AutoAuthWithoutToken_Is503_ButLive()
    {
        var store = new TokenStore();
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time)), _time);

        var (status, body) = await GetAsync(endpoint);

        Assert.Equal(503, status);
        Assert.Equal(
            """{"authenticated":false,"token_ttl_seconds":null,"last_login":null,"vault_reachable":true,"cache_entries":null,"ready":false,"vault_unreachable_seconds":null,"shutting_down":false}""",
            body);
        Assert.Equal(200, (await GetAsync(endpoint, query: "?probe=live")).Status);
    }

    [Fact]
    public async Task Health_Transitions_LoginVaultDownAndBack()
    {
        var store = new TokenStore();
        var vault = new VaultReachability(_time);
        int entries = 3;
        var endpoint = new HealthEndpoint(new HealthState(store, vault, () => entries), _time);

        Assert.Equal(503, (await GetAsync(endpoint)).Status);

        store.Publish(new AutoAuthToken("s.secret", "acc", _time.GetUtcNow(), TimeSpan.FromHours(1), Renewable: true));
        _time.Advance(TimeSpan.FromSeconds(90));
        var (status, body) = await GetAsync(endpoint);
        Assert.Equal(200, status);
        Assert.Equal(
            """{"authenticated":true,"token_ttl_seconds":3510,"last_login":"2026-11-30T03:00:00Z","vault_reachable":true,"cache_entries":3,"ready":true,"vault_unreachable_seconds":null,"shutting_down":false}""",
            body);
        Assert.DoesNotContain("s.secret", body, StringComparison.Ordinal);

        vault.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(200, (await GetAsync(endpoint, query: "?vault=required")).Status); // exactly the grace: still ready

        vault.ReportFailure(); // a later failure does not restart the clock
        _time.Advance(TimeSpan.FromSeconds(1));
        (status, body) = await GetAsync(endpoint, query: "?vault=required");
        Assert.Equal(503, status);
        Assert.Contains("\"vault_reachable\":false", body, StringComparison.Ordinal);
        Assert.Contains("\"vault_unreachable_seconds\":61", body, StringComparison.Ordinal);

        // The default readiness does not follow Vault: the token is still valid, so the pod stays in its Service.
        (status, body) = await GetAsync(endpoint);
        Assert.Equal(200, status);
        Assert.Contains("\"ready\":true", body, StringComparison.Ordinal);

        vault.ReportSuccess();
        (status, body) = await GetAsync(endpoint, query: "?vault=required");
        Assert.Equal(200, status);
        Assert.Contains("\"vault_reachable\":true", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_VaultOutage_KeepsDefaultReadiness_UntilTheTokenExpires()
    {
        var store = new TokenStore();
        var vault = new VaultReachability(_time);
        store.Publish(new AutoAuthToken("t", null, _time.GetUtcNow(), TimeSpan.FromMinutes(30), Renewable: true));
        var endpoint = new HealthEndpoint(new HealthState(store, vault), _time);

        vault.ReportFailure();
        _time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(200, (await GetAsync(endpoint)).Status);
        Assert.Equal(503, (await GetAsync(endpoint, query: "?vault=required")).Status);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(503, (await GetAsync(endpoint)).Status);
        Assert.Equal(200, (await GetAsync(endpoint, query: "?probe=live")).Status);
    }

    [Fact]
    public async Task Health_VaultGrace_SetsTheWindow()
    {
        var vault = new VaultReachability(_time);
        var endpoint = new HealthEndpoint(new HealthState(null, vault), _time);

        vault.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(200, (await GetAsync(endpoint, query: "?vault=required&vault_grace=12s")).Status);
        Assert.Equal(503, (await GetAsync(endpoint, query: "?vault=required&vault_grace=10")).Status);
        Assert.Equal(503, (await GetAsync(endpoint, query: "?vault=required&vault_grace=0s")).Status);
        Assert.Equal(200, (await GetAsync(endpoint, query: "?vault=optional&vault_grace=0s")).Status);
    }

    [Theory]
    [InlineData("?probe=startup", "invalid value \\\"startup\\\" for probe; use ready (the default) or live")]
    [InlineData("?vault=yes", "invalid value \\\"yes\\\" for vault; use optional (the default) or required")]
    [InlineData("?vault=required&vault_grace=-5s", "invalid value \\\"-5s\\\" for vault_grace; use a duration such as 30s or 2m")]
    [InlineData("?vault_grace=soon", "invalid value \\\"soon\\\" for vault_grace; use a duration such as 30s or 2m")]
    public async Task Health_BadQuery_Is400WithVaultStyleErrors(string query, string message)
    {
        var endpoint = new HealthEndpoint(new HealthState(null, new VaultReachability(_time)), _time);

        var (status, body) = await GetAsync(endpoint, query: query);

        Assert.Equal(400, status);
        Assert.Equal($$"""{"errors":["{{message}}"]}""", body);
    }

    [Fact]
    public async Task Health_ShuttingDown_IsNotReady_ButLive()
    {
        var store = new TokenStore();
        store.Publish(new AutoAuthToken("t", null, _time.GetUtcNow(), TimeSpan.FromHours(1), Renewable: true));
        using var stopping = new CancellationTokenSource();
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time), stopping: stopping.Token), _time);
        Assert.Equal(200, (await GetAsync(endpoint)).Status);

        await stopping.CancelAsync();

        var (status, body) = await GetAsync(endpoint);
        Assert.Equal(503, status);
        Assert.EndsWith("\"ready\":false,\"vault_unreachable_seconds\":null,\"shutting_down\":true}", body, StringComparison.Ordinal);
        Assert.Equal(200, (await GetAsync(endpoint, query: "?probe=live")).Status);
    }

    [Fact]
    public async Task Health_ExpiredToken_Is503()
    {
        var store = new TokenStore();
        store.Publish(new AutoAuthToken("t", null, _time.GetUtcNow(), TimeSpan.FromMinutes(5), Renewable: false));
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time)), _time);

        _time.Advance(TimeSpan.FromMinutes(5));

        var (status, body) = await GetAsync(endpoint);
        Assert.Equal(503, status);
        Assert.StartsWith("""{"authenticated":false,"token_ttl_seconds":null,"last_login":"2026-11-30T03:00:00Z""", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_TokenWithoutTtl_IsAuthenticatedWithNullTtl()
    {
        var store = new TokenStore();
        store.Publish(new AutoAuthToken("t", null, _time.GetUtcNow(), null, Renewable: false));
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time)), _time);

        var (status, body) = await GetAsync(endpoint);
        Assert.Equal(200, status);
        Assert.StartsWith("""{"authenticated":true,"token_ttl_seconds":null""", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_NoAutoAuth_IsReady_AndNeedsVaultOnlyWhenAsked()
    {
        var vault = new VaultReachability(_time);
        var endpoint = new HealthEndpoint(new HealthState(null, vault), _time);

        Assert.Equal(200, (await GetAsync(endpoint, query: "?vault=required")).Status);
        vault.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(200, (await GetAsync(endpoint)).Status);
        Assert.Equal(503, (await GetAsync(endpoint, query: "?vault=required")).Status);
    }

    [Fact]
    public async Task Health_Post_Is405()
    {
        var endpoint = new HealthEndpoint(new HealthState(null, new VaultReachability(_time)), _time);
        Assert.Equal(405, (await GetAsync(endpoint, "POST")).Status);
    }

    [Fact]
    public async Task Health_SharedStore_IsReported_ButNeverCountsForReadiness()
    {
        var store = new TokenStore();
        store.Publish(new AutoAuthToken("s.secret", "acc", _time.GetUtcNow(), TimeSpan.FromHours(1), Renewable: true));
        var shared = new HealthShared(Up: false, "127.0.0.1:6379");
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time), shared: () => shared), _time);

        var (downStatus, downBody) = await GetAsync(endpoint);
        shared = shared with { Up = true };
        var (upStatus, upBody) = await GetAsync(endpoint);

        Assert.Equal(200, downStatus);
        Assert.EndsWith("""
            "ready":true,"vault_unreachable_seconds":null,"shutting_down":false,"shared_up":false,"shared_address":"127.0.0.1:6379"}
            """, downBody, StringComparison.Ordinal);
        Assert.Equal(200, upStatus);
        Assert.Contains("\"shared_up\":true", upBody, StringComparison.Ordinal);
    }
}
