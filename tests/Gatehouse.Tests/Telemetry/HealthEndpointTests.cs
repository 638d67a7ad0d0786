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

    private async Task<(int Status, string Body)> GetAsync(HealthEndpoint endpoint, string method = "GET")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.HandleAsync(context);
        Assert.Equal("application/json", context.Response.ContentType);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task Health_AutoAuthWithoutToken_Is503()
    {
        var store = new TokenStore();
        var endpoint = new HealthEndpoint(new HealthState(store, new VaultReachability(_time)), _time);

        var (status, body) = await GetAsync(endpoint);

        Assert.Equal(503, status);
        Assert.Equal("""{"authenticated":false,"token_ttl_seconds":null,"last_login":null,"vault_reachable":true,"cache_entries":null}""", body);
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
        Assert.Equal("""{"authenticated":true,"token_ttl_seconds":3510,"last_login":"2026-11-30T03:00:00Z","vault_reachable":true,"cache_entries":3}""", body);
        Assert.DoesNotContain("s.secret", body, StringComparison.Ordinal);

        vault.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(60));
        (status, body) = await GetAsync(endpoint);
        Assert.Equal(200, status); // unreachable for exactly the threshold: still ready
        Assert.Contains("\"vault_reachable\":false", body, StringComparison.Ordinal);

        vault.ReportFailure(); // a later failure does not restart the clock
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(503, (await GetAsync(endpoint)).Status);

        vault.ReportSuccess();
        (status, body) = await GetAsync(endpoint);
        Assert.Equal(200, status);
        Assert.Contains("\"vault_reachable\":true", body, StringComparison.Ordinal);
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
    public async Task Health_NoAutoAuth_IsReadyWhileVaultReachable()
    {
        var vault = new VaultReachability(_time);
        var endpoint = new HealthEndpoint(new HealthState(null, vault), _time, TimeSpan.FromSeconds(10));

        Assert.Equal(200, (await GetAsync(endpoint)).Status);
        vault.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(503, (await GetAsync(endpoint)).Status);
    }

    [Fact]
    public async Task Health_Post_Is405()
    {
        var endpoint = new HealthEndpoint(new HealthState(null, new VaultReachability(_time)), _time);
        Assert.Equal(405, (await GetAsync(endpoint, "POST")).Status);
    }
}
