using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using static Gatehouse.IntegrationTests.AutoAuth.AutoAuthHarness;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>token_file, jwt and kubernetes against DevVault: each logs in, reaches the sink, and renews.</summary>
public sealed class MethodsAutoAuthTests
{
    private const string RenewSelf = "/v1/auth/token/renew-self";

    [Fact]
    public async Task TokenFile_AdoptsTheTokenAndRenewsIt()
    {
        await using var h = await StartVaultAsync();
        var token = (await h.RootAsync(HttpMethod.Post, "auth/token/create", new { ttl = "1h", policies = new[] { "default" } }))!["auth"]!["client_token"]!.ToString();
        await File.WriteAllTextAsync(h.PathOf("vault-token"), token + "\n");

        await h.StartGatehouseAsync(h.Config(
            new AuthMethodConfig { Type = "token_file", Config = Map(("token_file_path", h.PathOf("vault-token"))) },
            h.FileSink("sink")));
        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(token, await File.ReadAllTextAsync(h.PathOf("sink")));
        Assert.Equal(1, h.Server.Faults.CountRequests("GET", "/v1/auth/token/lookup-self"));
        h.Time.Advance(wait.Delay);
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
        Assert.True(File.Exists(h.PathOf("vault-token")), "token_file never removes the file");
    }

    [Fact]
    public async Task Jwt_LogsInRemovesTheFileAndRenews()
    {
        await using var h = await StartVaultAsync();
        using var key = RSA.Create(2048);
        await h.RootAsync(HttpMethod.Post, "sys/auth/jwt", new { type = "jwt" });
        await h.RootAsync(HttpMethod.Post, "auth/jwt/config", new { jwt_validation_pubkeys = new[] { key.ExportSubjectPublicKeyInfoPem() } });
        await h.RootAsync(HttpMethod.Post, "auth/jwt/role/app", new
        {
            role_type = "jwt", bound_audiences = new[] { "gatehouse" }, user_claim = "sub", token_policies = new[] { "default" }, token_ttl = "15m",
        });
        var now = h.Time.GetUtcNow().ToUnixTimeSeconds();
        var jwt = Jwt(key, new JsonObject { ["sub"] = "svc", ["aud"] = "gatehouse", ["exp"] = now + 3600, ["iat"] = now });
        await File.WriteAllTextAsync(h.PathOf("jwt"), jwt);

        await h.StartGatehouseAsync(h.Config(
            new AuthMethodConfig { Type = "jwt", Config = Map(("path", h.PathOf("jwt")), ("role", "app")) }, h.FileSink("sink")));
        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.False(File.Exists(h.PathOf("jwt")), "remove_jwt_after_reading defaults to true");
        Assert.Equal(200, await h.StatusWithTokenAsync("auth/token/lookup-self", await File.ReadAllTextAsync(h.PathOf("sink"))));
        h.Time.Advance(wait.Delay);
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
        Assert.DoesNotContain(jwt, h.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_LogsInWithTheServiceAccountTokenAndRenews()
    {
        await using var h = await StartVaultAsync();
        using var key = RSA.Create(2048);
        await h.RootAsync(HttpMethod.Post, "sys/auth/kubernetes", new { type = "kubernetes" });
        await h.RootAsync(HttpMethod.Post, "auth/kubernetes/config", new
        {
            kubernetes_host = "https://kubernetes.default.svc", pem_keys = new[] { key.ExportSubjectPublicKeyInfoPem() },
        });
        await h.RootAsync(HttpMethod.Post, "auth/kubernetes/role/web", new
        {
            bound_service_account_names = new[] { "web" }, bound_service_account_namespaces = new[] { "prod" },
            token_policies = new[] { "default" }, token_ttl = "1h",
        });
        var claims = new JsonObject
        {
            ["iss"] = "kubernetes/serviceaccount",
            ["sub"] = "system:serviceaccount:prod:web",
            ["kubernetes.io"] = new JsonObject { ["namespace"] = "prod", ["serviceaccount"] = new JsonObject { ["name"] = "web", ["uid"] = "uid-1" } },
        };
        await File.WriteAllTextAsync(h.PathOf("sa-token"), Jwt(key, claims));

        await h.StartGatehouseAsync(h.Config(
            new AuthMethodConfig { Type = "kubernetes", Config = Map(("role", "web"), ("token_path", h.PathOf("sa-token"))) }, h.FileSink("sink")));
        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", "/v1/auth/kubernetes/login"));
        Assert.True(File.Exists(h.PathOf("sa-token")), "the service account token is never removed");
        h.Time.Advance(wait.Delay);
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
    }

    [Fact]
    public async Task WrapTtlOnTheMethod_SinkGetsTheWrapInfoAndNothingIsRenewed()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        var method = new AuthMethodConfig
        {
            Type = "approle",
            WrapTtl = TimeSpan.FromMinutes(5),
            Config = Map(("role_id_file_path", h.PathOf("role_id")), ("secret_id_file_path", h.PathOf("secret_id"))),
        };
        await h.StartGatehouseAsync(h.Config(method, h.FileSink("sink")));
        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Idle, wait.Reason);
        var info = JsonNode.Parse(await File.ReadAllTextAsync(h.PathOf("sink")))!;
        Assert.Equal(300, info["ttl"]!.GetValue<int>());
        Assert.Equal("auth/approle/login", info["creation_path"]!.ToString());

        // The consumer unwraps it into a working token.
        var unwrapped = await h.RootAsync(HttpMethod.Put, "sys/wrapping/unwrap", token: info["token"]!.ToString());
        var token = unwrapped!["auth"]!["client_token"]!.ToString();
        Assert.Equal(200, await h.StatusWithTokenAsync("auth/token/lookup-self", token));
        Assert.Equal(0, h.Server.Faults.CountRequests("PUT", RenewSelf));
    }

    [Fact]
    public async Task SinkWrapTtl_WritesWrapInfoThatUnwrapsToTheAutoAuthToken()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        var sink = h.FileSink("sink") with { WrapTtl = TimeSpan.FromMinutes(2) };
        await h.StartGatehouseAsync(h.Config(new AuthMethodConfig
        {
            Type = "approle",
            Config = Map(("role_id_file_path", h.PathOf("role_id")), ("secret_id_file_path", h.PathOf("secret_id"))),
        }, sink));
        await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        var info = JsonNode.Parse(await File.ReadAllTextAsync(h.PathOf("sink")))!;
        Assert.Equal("sys/wrapping/wrap", info["creation_path"]!.ToString());
        var unwrapped = await h.RootAsync(HttpMethod.Put, "sys/wrapping/unwrap", token: info["token"]!.ToString());
        Assert.Equal(h.Store.Current!.Token, unwrapped!["data"]!["token"]!.ToString());
    }

    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Jwt(RSA key, JsonObject claims)
    {
        var head = B64("""{"alg":"RS256","typ":"JWT"}"""u8.ToArray());
        var body = B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(head + "." + body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return head + "." + body + "." + B64(signature);
    }
}
