using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.AutoAuth;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The azure method through the real host: an HCL config loaded as <c>gatehouse proxy</c> loads it, reading a loopback
/// instance-metadata emulator (pointed at through the Gatehouse-only <c>imds_endpoint</c>) and logging in to DevVault's
/// azure backend, which verifies the emulator's JWT with the emulator's public key. Login, renewal, a new login after
/// revocation, Vault's refusals and an unreachable metadata service; the JWT is never logged.
/// </summary>
public sealed class AzureAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/azure/login";
    private const string Resource = "https://management.azure.com/";
    private const string Tenant = "00000000-aaaa-bbbb-cccc-000000000000";
    private const string ObjectId = "11111111-2222-3333-4444-555555555555";

    /// <summary>Azure's instance metadata service as far as Vault Agent uses it: two GETs that need <c>Metadata: true</c>.</summary>
    private sealed class ImdsEmulator : IAsyncDisposable
    {
        private readonly RSA _key = RSA.Create(2048);
        private readonly TestUpstream _upstream;
        private readonly TimeProvider _time;

        private ImdsEmulator(TestUpstream upstream, TimeProvider time)
        {
            _upstream = upstream;
            _time = time;
            upstream.Handler = HandleAsync;
        }

        public string Address => _upstream.Address;

        public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

        public ConcurrentQueue<string> TokenQueries { get; } = new();

        public ConcurrentQueue<string> Issued { get; } = new();

        public int InstanceRequests;

        public int MissingHeader;

        public string ResourceGroup { get; set; } = "rg-web";

        public TimeSpan JwtLifetime { get; set; } = TimeSpan.FromHours(1);

        public static async Task<ImdsEmulator> StartAsync(TimeProvider time) => new(await TestUpstream.StartAsync(), time);

        private async Task HandleAsync(HttpContext context)
        {
            if (context.Request.Headers["Metadata"] != "true")
            {
                Interlocked.Increment(ref MissingHeader);
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("{\"error\":\"bad_request\",\"error_description\":\"Required metadata header not specified\"}");
                return;
            }

            context.Response.ContentType = "application/json";
            switch (context.Request.Path.Value)
            {
                case "/metadata/instance":
                    Interlocked.Increment(ref InstanceRequests);

                    // Azure's own casing; Vault's decoder matches field names case-insensitively.
                    await context.Response.WriteAsync(JsonSerializer.Serialize(new
                    {
                        compute = new { name = "vm-web-1", resourceGroupName = ResourceGroup, subscriptionId = "sub-1234", vmScaleSetName = "", location = "westeurope" },
                    }));
                    return;
                case "/metadata/identity/oauth2/token":
                    TokenQueries.Enqueue(context.Request.QueryString.Value ?? "");
                    var jwt = Mint(context.Request.Query["resource"].ToString());
                    Issued.Enqueue(jwt);
                    await context.Response.WriteAsync(JsonSerializer.Serialize(new
                    {
                        access_token = jwt, expires_in = "3599", resource = context.Request.Query["resource"].ToString(), token_type = "Bearer",
                    }));
                    return;
                default:
                    context.Response.StatusCode = 404;
                    return;
            }
        }

        private string Mint(string audience)
        {
            static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            var head = B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
            var body = B64(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["aud"] = audience, ["iss"] = $"https://sts.windows.net/{Tenant}/", ["oid"] = ObjectId, ["iat"] = now, ["nbf"] = now,
                ["exp"] = now + (long)JwtLifetime.TotalSeconds, ["sub"] = ObjectId,
            }));
            var sig = _key.SignData(Encoding.ASCII.GetBytes(head + "." + body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return head + "." + body + "." + B64(sig);
        }

        public async ValueTask DisposeAsync()
        {
            await _upstream.DisposeAsync();
            _key.Dispose();
        }
    }

    private static async Task SetUpAzureAsync(OpsHarness h, ImdsEmulator imds)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/azure", new { type = "azure" });
        await h.RootAsync(HttpMethod.Post, "auth/azure/config", new { tenant_id = Tenant, resource = Resource, dev_jwt_validation_pubkeys = new[] { imds.PublicKeyPem } });
        await h.RootAsync(HttpMethod.Post, "auth/azure/role/web", new
        {
            policies = "all", token_ttl = "1h", bound_subscription_ids = new[] { "sub-1234" }, bound_resource_groups = new[] { "rg-web" },
        });
    }

    private static string Hcl(OpsHarness h, string imdsEndpoint, string methodExtra = "") => $$"""
        log_level = "trace"
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "azure" {
            config = {
              role          = "web"
              resource      = "{{Resource}}"
              imds_endpoint = "{{imdsEndpoint}}"
              {{methodExtra}}
            }
          }
          sink "file" {
            config = {
              path = "{{h.PathOf("token-sink")}}"
            }
          }
        }
        api_proxy {
          use_auto_auth_token = true
        }
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
        }
        """;

    [Fact]
    public async Task Azure_LogsInRenewsAndLogsInAgainAfterRevocation_WithTheInstanceMetadata()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync(h.Time);
        await SetUpAzureAsync(h, imds);

        await h.StartGatehouseAsync(Hcl(h, imds.Address, "client_id = \"cid-42\""));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(0, imds.MissingHeader);
        Assert.Equal(1, imds.InstanceRequests);
        Assert.Equal(["?api-version=2018-02-01&client_id=cid-42&resource=https%3A%2F%2Fmanagement.azure.com%2F"], imds.TokenQueries);
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        var meta = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first }))!["data"]!["meta"]!;
        Assert.Equal("web", meta["role"]!.ToString());
        Assert.Equal("vm-web-1", meta["vm_name"]!.ToString());
        Assert.Equal("sub-1234", meta["subscription_id"]!.ToString());
        Assert.Equal("rg-web", meta["resource_group_name"]!.ToString());
        Assert.Null(meta["vmss_name"]);

        // Renewal: renew-self with the azure token, no new metadata reads.
        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
        Assert.Equal(first, h.Host.TokenStore.Current!.Token);
        Assert.Single(imds.TokenQueries);

        // Vault revokes the token: the next proxied 403 is checked with lookup-self and causes one new login with a fresh JWT.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(2, imds.TokenQueries.Count);
        Assert.Equal(2, imds.InstanceRequests);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        foreach (var jwt in imds.Issued)
        {
            Assert.DoesNotContain(jwt.Split('.')[1], h.ConsoleLog, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Azure_ImdsUnreachable_BacksOffWithAClearMessage_ThenLogsInWhenItAnswers()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync(h.Time);
        await SetUpAzureAsync(h, imds);

        // A loopback port nothing listens on.
        var dead = await TestUpstream.StartAsync();
        var deadAddress = dead.Address;
        await dead.DisposeAsync();

        await h.StartGatehouseAsync(Hcl(h, deadAddress));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        Assert.InRange(backoff.Delay, TimeSpan.FromSeconds(0.75), TimeSpan.FromSeconds(1));
        await h.WaitForLogAsync($"error fetching metadata from {deadAddress}/metadata/instance");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.InRange(second.Delay, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Azure_VaultRefusesAnUnboundResourceGroupAndAnExpiredJwt_WithVaultsWords_AndBacksOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync(h.Time);
        await SetUpAzureAsync(h, imds);
        imds.ResourceGroup = "rg-other";

        await h.StartGatehouseAsync(Hcl(h, imds.Address));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("resource group not authorized");

        imds.ResourceGroup = "rg-web";
        imds.JwtLifetime = TimeSpan.FromMinutes(-5);
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("oidc: token is expired");

        imds.JwtLifetime = TimeSpan.FromHours(1);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(3, h.Vault.Faults.CountRequests("PUT", Login));
        foreach (var jwt in imds.Issued)
        {
            Assert.DoesNotContain(jwt.Split('.')[1], h.ConsoleLog, StringComparison.Ordinal);
        }
    }
}
