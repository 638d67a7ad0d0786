using System.Text.Json.Nodes;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// A full scenario at trace level, every log line captured (console and log file), then every secret value seen on
/// the wire is searched for in the logs. None may appear.
/// </summary>
public sealed class NoSecretsInLogsTests
{
    [Fact]
    public async Task TraceLevelScenario_LogsNoTokenSecretIdJwtOrWrappingToken()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        void Secret(string what, string? value)
        {
            Assert.False(string.IsNullOrEmpty(value), what);
            secrets[what] = value!;
        }

        Secret("root token", h.Vault.RootToken);
        Secret("role_id", h.RoleId);
        Secret("plain secret_id", h.SecretId);

        // Auto-auth logs in with a response-wrapped secret ID read from a file.
        var wrappedSecretId = (await h.RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id", headers: new Dictionary<string, string> { ["X-Vault-Wrap-TTL"] = "5m" }))!;
        Secret("secret_id wrapping token", wrappedSecretId["wrap_info"]!["token"]!.ToString());
        await File.WriteAllTextAsync(h.PathOf("secret_id"), secrets["secret_id wrapping token"]);
        Directory.CreateDirectory(h.PathOf("logs"));
        await h.StartGatehouseAsync(h.Hcl(
            logLevel: "trace",
            method: "secret_id_response_wrapping_path = \"auth/approle/role/app/secret-id\"",
            extra: $"log_file = \"{h.PathOf("logs")}/\""));
        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        Secret("auto-auth token", h.Host.TokenStore.Current!.Token);
        await h.FirstSinkWriteAsync();
        Secret("file sink content", (await File.ReadAllTextAsync(h.PathOf("token-sink"))).Trim());

        // A client logs in through the proxy with its own role and secret ID (cached), and uses its token.
        var login = await h.SendAsync(HttpMethod.Put, "/v1/auth/approle/login", token: null, body: new { role_id = h.RoleId, secret_id = h.SecretId });
        Assert.Equal(200, login.Status);
        Secret("client token", JsonNode.Parse(login.Body)!["auth"]!["client_token"]!.ToString());
        var client = secrets["client token"];
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db", client)).Status);
        var hit = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", client);
        Assert.Equal("HIT", hit.Response.Headers.GetValues("X-Cache").Single());
        Secret("secret value", JsonNode.Parse(hit.Body)!["data"]!["password"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/sys/mounts", h.Vault.RootToken)).Status);

        // Token create (cached), lookups by body and by the URL form, a wrapped read, unwrap, revoke.
        var created = await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", client, new { ttl = "1h" });
        Assert.Equal(200, created.Status);
        Secret("created token", JsonNode.Parse(created.Body)!["auth"]!["client_token"]!.ToString());
        await h.SendAsync(HttpMethod.Post, "/v1/auth/token/lookup", client, new { token = secrets["created token"] });
        await h.SendAsync(HttpMethod.Get, "/v1/auth/token/lookup/" + secrets["created token"], client);
        await h.SendAsync(HttpMethod.Get, "/v1/auth/token/lookup-self");

        using (var wrapRequest = new HttpRequestMessage(HttpMethod.Get, "/v1/secret/db"))
        {
            wrapRequest.Headers.Add("X-Vault-Token", client);
            wrapRequest.Headers.Add("X-Vault-Wrap-TTL", "5m");
            using var wrapped = await h.Client.SendAsync(wrapRequest);
            Secret("response wrapping token", JsonNode.Parse(await wrapped.Content.ReadAsStringAsync())!["wrap_info"]!["token"]!.ToString());
        }

        Assert.Equal(200, (await h.SendAsync(HttpMethod.Post, "/v1/sys/wrapping/unwrap", client, new { token = secrets["response wrapping token"] })).Status);

        // A JWT login attempt (no jwt mount here: it fails, but the body went through the proxy).
        const string Jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJnYXRlaG91c2UtdGVzdCJ9.c2lnbmF0dXJlLW5vdC1yZWFs";
        Secret("jwt", Jwt);
        await h.SendAsync(HttpMethod.Put, "/v1/auth/jwt/login", token: null, body: new { role = "app", jwt = Jwt });

        Assert.Equal(204, (await h.SendAsync(HttpMethod.Post, "/v1/auth/token/revoke", client, new { token = secrets["created token"] })).Status);
        await h.SendAsync(HttpMethod.Post, "/v1/auth/token/revoke-self", client);

        // Renewal of the auto-auth token, and the cache's renewals, at trace too.
        h.Time.Advance(TimeSpan.FromMinutes(45));
        await h.VaultRequestsAsync("PUT", "/v1/auth/token/renew-self");
        using (var metrics = await h.Client.GetAsync("/agent/v1/metrics?format=prometheus"))
        using (var health = await h.Client.GetAsync("/agent/v1/health"))
        {
            Assert.True(metrics.IsSuccessStatusCode && health.IsSuccessStatusCode);
        }

        await h.Host.StopAsync();
        var logs = h.ConsoleLog + string.Concat(Directory.GetFiles(h.PathOf("logs")).Select(File.ReadAllText));

        // The scan means something: trace output is there, with the per-request lines and the auth loop.
        Assert.Contains("[DEBUG] proxy.listener: ", logs, StringComparison.Ordinal);
        Assert.Contains("proxied GET /v1/secret/db: status=200 cache=hit", logs, StringComparison.Ordinal);
        Assert.Contains("proxied GET /v1/auth/token/lookup/<redacted>", logs, StringComparison.Ordinal);
        Assert.Contains("proxy.auth.handler: ", logs, StringComparison.Ordinal);
        foreach (var (what, value) in secrets)
        {
            Assert.False(logs.Contains(value, StringComparison.Ordinal), $"the {what} appears in the logs");
        }
    }
}
