namespace Gatehouse.DevVault.Tests;

public sealed class WrappingAndInputTests
{
    [Fact]
    public async Task Wrapping_TokenIsSingleUse()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "secret/data/w", body: new { data = new { s = "x" } });
        var wrapped = await vault.OkAsync("GET", "secret/data/w", headers: new() { ["X-Vault-Wrap-TTL"] = "5m" });
        var wrapToken = wrapped["wrap_info"]!["token"]!.ToString();
        Assert.Equal(300, wrapped["wrap_info"]!["ttl"]!.GetValue<int>());
        Assert.Equal(200, (await vault.SendAsync("POST", "sys/wrapping/lookup", body: new { token = wrapToken })).Status);
        var unwrapped = await vault.OkAsync("POST", "sys/wrapping/unwrap", wrapToken);
        Assert.Equal("x", unwrapped["data"]!["data"]!["s"]!.ToString());
        var (status, body, _) = await vault.SendAsync("POST", "sys/wrapping/unwrap", wrapToken);
        Assert.Equal(400, status);
        Assert.Equal("wrapping token is not valid or does not exist", body!["errors"]![0]!.ToString());
    }

    [Theory]
    [InlineData("POST", "secret/data/a", "{\"data\": {", 400, """{"errors":["error parsing JSON"]}""")]
    [InlineData("PUT", "kv/x", "[1,2]", 400, """{"errors":["error parsing JSON"]}""")]
    [InlineData("POST", "auth/token/create", "{\"num_uses\":\"many\"}", 400, """{"errors":["Error decoding request: 1 error(s) decoding:\n\n* cannot parse 'num_uses' as int: strconv.ParseInt: parsing \"many\": invalid syntax"]}""")]
    [InlineData("POST", "auth/token/create", "{\"ttl\":\"soon\"}", 400, """{"errors":["strconv.ParseInt: parsing \"soon\": invalid syntax"]}""")]
    [InlineData("GET", "nope/x", null, 404, """{"errors":["no handler for route 'nope/x'"]}""")]
    [InlineData("GET", "sys/nope", null, 404, """{"errors":["1 error occurred:\n\t* unsupported path\n\n"]}""")]
    [InlineData("PATCH", "secret/data/a", "{}", 405, """{"errors":[]}""")]
    [InlineData("DELETE", "auth/token/create", null, 405, """{"errors":["1 error occurred:\n\t* unsupported operation\n\n"]}""")]
    public async Task BadInput_GetsVaultsExactStatusAndBody(string method, string path, string? raw, int status, string expected)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        var (actual, body, response) = await vault.SendAsync(method, path, server.RootToken, rawBody: raw);
        Assert.Equal(status, actual);
        Assert.Equal(expected, body!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task BadInput_OversizedBody_Gets413WithJsonError()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { MaxRequestSize = 1024 });
        using var vault = new Vault(server);
        var (status, body, _) = await vault.SendAsync("PUT", "kv/big", server.RootToken, rawBody: "{\"a\":\"" + new string('x', 4096) + "\"}");
        Assert.Equal(413, status);
        Assert.Equal("""{"errors":["http: request body too large"]}""", body!.ToJsonString());
    }

    [Theory]
    [InlineData(null, 400, "missing client token")]
    [InlineData("s.notarealtoken0000000000", 403, "permission denied")]
    public async Task BadInput_MissingOrBadToken(string? token, int status, string error)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        var (actual, body, _) = await vault.SendAsync("GET", "secret/data/a", token);
        Assert.Equal(status, actual);
        Assert.Equal(error, body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Token_BearerHeader_Works_AndXVaultTokenWins()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { RootTokenId = "my-root" });
        using var vault = new Vault(server);
        Assert.Equal("my-root", server.RootToken);
        var both = await vault.SendAsync("GET", "auth/token/lookup-self", "my-root", headers: new() { ["Authorization"] = "Bearer bogus" });
        Assert.Equal(200, both.Status);
        var bearer = await vault.SendAsync("GET", "auth/token/lookup-self", headers: new() { ["Authorization"] = "Bearer my-root" });
        Assert.Equal("my-root", bearer.Body!["data"]!["id"]!.ToString());
    }
}
