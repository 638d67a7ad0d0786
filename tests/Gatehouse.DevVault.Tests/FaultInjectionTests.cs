namespace Gatehouse.DevVault.Tests;

public sealed class FaultInjectionTests
{
    [Fact]
    public async Task Faults_SealAndUnseal_ChangeEveryAnswer()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        server.Faults.Seal();
        var (status, body, _) = await vault.SendAsync("GET", "secret/data/x", server.RootToken);
        Assert.Equal(503, status);
        Assert.Equal("error performing token check: Vault is sealed", body!["errors"]![0]!.ToString());
        Assert.Equal(503, (await vault.SendAsync("GET", "sys/health")).Status);
        server.Faults.Unseal();
        Assert.Equal(200, (await vault.SendAsync("GET", "sys/health")).Status);
    }

    [Fact]
    public async Task Faults_SealThenHttpUnsealWithKey_Works()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/seal");
        var (status, body, _) = await vault.SendAsync("PUT", "sys/unseal", body: new { key = server.UnsealKey });
        Assert.Equal(200, status);
        Assert.False(body!["sealed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Faults_FailNext_AnswersExactlyNRequests()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        server.Faults.FailNext(2, 502, "upstream exploded");
        for (var i = 0; i < 2; i++)
        {
            var (status, body, _) = await vault.SendAsync("GET", "sys/health");
            Assert.Equal(502, status);
            Assert.Equal("""{"errors":["upstream exploded"]}""", body!.ToJsonString());
        }
        Assert.Equal(200, (await vault.SendAsync("GET", "sys/health")).Status);
        server.Faults.FailNext(1, 500);
        Assert.Equal("""{"errors":[]}""", (await vault.SendAsync("GET", "sys/health")).Body!.ToJsonString());
    }

    [Fact]
    public async Task Faults_WaitForRequests_CompletesWhenTheNthMatchingRequestArrives()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        var second = server.Faults.WaitForRequestsAsync("GET", "/v1/sys/health", 2);
        var other = server.Faults.WaitForRequestsAsync("PUT", "/v1/sys/health", 1);

        await vault.SendAsync("GET", "sys/health");
        Assert.False(second.IsCompleted);
        await vault.SendAsync("GET", "sys/health");
        await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(other.IsCompleted);
        Assert.True(server.Faults.WaitForRequestsAsync("GET", "/v1/sys/", 2).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Faults_ResponseDelay_StillAnswers()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        server.Faults.ResponseDelay = TimeSpan.FromMilliseconds(20);
        Assert.Equal(200, (await vault.SendAsync("GET", "sys/health")).Status);
        server.Faults.ResponseDelay = TimeSpan.Zero;
    }

    [Fact]
    public async Task Faults_ResponseDelay_CanBeCancelledByTheClient()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMilliseconds(200) };
        server.Faults.ResponseDelay = TimeSpan.FromMinutes(5);
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => http.GetAsync("/v1/sys/health"));
        server.Faults.ResponseDelay = TimeSpan.Zero;
    }

    [Fact]
    public async Task Faults_DropConnections_AbortsWithoutResponse()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        server.Faults.DropConnections = true;
        await Assert.ThrowsAsync<HttpRequestException>(() => vault.SendAsync("GET", "sys/health"));
        server.Faults.DropConnections = false;
        Assert.Equal(200, (await vault.SendAsync("GET", "sys/health")).Status);
    }

    [Fact]
    public async Task Faults_StopAndRestartListener_KeepsPortAndState()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var address = server.Address;
        using (var vault = new Vault(server))
        {
            await vault.OkAsync("POST", "secret/data/keep", body: new { data = new { v = 1 } });
        }
        await server.Faults.StopListenerAsync();
        using (var refused = new Vault(server))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => refused.SendAsync("GET", "sys/health"));
        }
        await server.Faults.RestartListenerAsync();
        Assert.Equal(address, server.Address);
        using var again = new Vault(server);
        var read = await again.OkAsync("GET", "secret/data/keep");
        Assert.Equal(1, read["data"]!["data"]!["v"]!.GetValue<int>());
    }

    [Fact]
    public async Task Faults_RequestCounters_CountByMethodAndPrefix()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.SendAsync("GET", "sys/health");
        await vault.SendAsync("PUT", "auth/approle/login", body: new { role_id = "x" });
        await vault.SendAsync("PUT", "auth/approle/login", body: new { role_id = "y" });
        Assert.Equal(3, server.Faults.RequestCount);
        Assert.Equal(2, server.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        Assert.Equal(0, server.Faults.CountRequests("GET", "/v1/auth/approle/login"));
        Assert.Equal(1, server.Faults.CountRequests("GET", "/v1/sys/"));
    }
}
