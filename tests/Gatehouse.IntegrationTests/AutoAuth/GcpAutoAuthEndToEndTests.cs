using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The gcp method (<c>type = "gce"</c>) through the real host: an HCL config loaded as <c>gatehouse proxy</c> loads
/// it, the instance identity JWT fetched from a loopback GCE metadata emulator (reached through
/// <c>GCE_METADATA_HOST</c>, refusing requests without <c>Metadata-Flavor: Google</c>, signing with a test key that
/// DevVault's gcp backend is given), logging in, renewing, logging in again after revocation, and backing off when
/// the metadata server is unreachable. No log line holds the JWT.
/// </summary>
public sealed class GcpAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/gcp/login";

    private static Task SetUpGcpAsync(OpsHarness h, MetadataEmulator metadata, string boundZone = "europe-west1-b") =>
        SetUpGcpAsync(h, metadata.PublicKeyPem, boundZone);

    private static async Task SetUpGcpAsync(OpsHarness h, string publicKeyPem, string boundZone)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/gcp", new { type = "gcp" });
        await h.RootAsync(HttpMethod.Post, "auth/gcp/dev-keys", new { pem_keys = new[] { publicKeyPem } });
        await h.RootAsync(HttpMethod.Post, "auth/gcp/role/web", new
        {
            type = "gce",
            policies = "all",
            bound_projects = "my-project",
            bound_zones = boundZone,
            token_ttl = "1h",
        });
    }

    private static string Hcl(OpsHarness h) => $$"""
        log_level = "trace"
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "gcp" {
            config = {
              type = "gce"
              role = "web"
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

    private static Action<IServiceCollection> MetadataAt(string host) =>
        services => services.AddSingleton(new AutoAuthEnvironment(name => name == "GCE_METADATA_HOST" ? host : null));

    [Fact]
    public async Task Gce_LogsInWithTheIdentityJwt_RenewsAndLogsInAgainAfterRevocation()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await MetadataEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, metadata);

        await h.StartGatehouseAsync(Hcl(h), configureServices: MetadataAt(metadata.Host));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var asked = Assert.Single(metadata.Requests);
        Assert.Equal("/computeMetadata/v1/instance/service-accounts/default/identity", asked.Path);
        // As Vault Agent: the address as configured (here with its trailing slash), then /vault/<role>.
        Assert.Equal($"{h.Vault.Address}/vault/web", asked.Audience);
        Assert.Equal("full", asked.Format);
        Assert.Equal("Google", asked.Flavor);
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first });
        Assert.Equal("my-project", self!["data"]!["meta"]!["project_id"]!.ToString());
        Assert.Equal("web", self["data"]!["meta"]!["role"]!.ToString());

        // Renewal: renew-self with the gcp token; the metadata server is not asked again.
        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
        Assert.Single(metadata.Requests);

        // Vault revokes the token: the next proxied 403 causes a new login with a freshly fetched JWT.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(2, metadata.Requests.Count);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        foreach (var jwt in metadata.Issued)
        {
            Assert.DoesNotContain(jwt.Split('.')[2], h.ConsoleLog, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Gce_MetadataUnreachable_BacksOffWithAClearMessage_ThenLogsInWhenItAnswers()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await MetadataEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, metadata);
        metadata.Down = true;

        await h.StartGatehouseAsync(Hcl(h), configureServices: MetadataAt(metadata.Host));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("error fetching instance token from the metadata server at " + metadata.Host + ": HTTP 503");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        metadata.Down = false;
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Gce_MetadataServerSilent_GivesUpAfterThirtySecondsOfTheInjectedClock_AndBacksOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await MetadataEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, metadata);
        metadata.Hang = true;

        await h.StartGatehouseAsync(Hcl(h), configureServices: MetadataAt(metadata.Host));
        await metadata.Hanging.Task.WaitAsync(OpsHarness.Hang);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"the metadata server at {metadata.Host} did not answer within 30 seconds");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Gce_NothingListening_BacksOffNamingTheMetadataServer()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        using var key = RSA.Create(2048);
        await SetUpGcpAsync(h, key.ExportSubjectPublicKeyInfoPem(), "europe-west1-b");
        string host;
        await using (var gone = await TestUpstream.StartAsync())
        {
            host = $"127.0.0.1:{gone.Port}";
        }

        await h.StartGatehouseAsync(Hcl(h), configureServices: MetadataAt(host));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"the metadata server at {host} is unreachable");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Gce_InstanceOutsideTheRolesZone_BacksOffWithVaultsRefusal()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await MetadataEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, metadata, boundZone: "us-central1-a");

        await h.StartGatehouseAsync(Hcl(h), configureServices: MetadataAt(metadata.Host));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("instance zone europe-west1-b is not in role zones");
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    /// <summary>
    /// A loopback GCE metadata server: the identity endpoint answers a format=full instance identity JWT (RS256, signed
    /// with its own key, expiring an hour after the fake clock's now) for the asked audience; any request without
    /// <c>Metadata-Flavor: Google</c> is refused with 403 as the real server does.
    /// </summary>
    private sealed class MetadataEmulator : IAsyncDisposable
    {
        private readonly TestUpstream _upstream;
        private readonly RSA _key = RSA.Create(2048);
        private readonly TimeProvider _time;
        private readonly Recorded<Asked> _requests = new();
        private readonly Recorded<string> _issued = new();

        private MetadataEmulator(TestUpstream upstream, TimeProvider time)
        {
            _upstream = upstream;
            _time = time;
            upstream.Handler = HandleAsync;
        }

        public sealed record Asked(string Path, string? Audience, string? Format, string? Flavor);

        public string Host => $"127.0.0.1:{_upstream.Port}";

        public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

        public volatile bool Down;

        /// <summary>True: identity requests get no answer until the client gives up; <see cref="Hanging"/> completes when one arrives.</summary>
        public volatile bool Hang;

        public TaskCompletionSource Hanging { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<Asked> Requests => _requests.Snapshot();

        public IReadOnlyList<string> Issued => _issued.Snapshot();

        public static async Task<MetadataEmulator> StartAsync(TimeProvider time) => new(await TestUpstream.StartAsync(), time);

        private async Task HandleAsync(HttpContext context)
        {
            var q = context.Request.Query;
            var flavor = context.Request.Headers["Metadata-Flavor"].ToString();
            _requests.Add(new Asked(context.Request.Path.Value!, q["audience"].FirstOrDefault(), q["format"].FirstOrDefault(), flavor));

            if (flavor != "Google")
            {
                context.Response.StatusCode = 403;
                await context.Response.WriteAsync("Missing required header \"Metadata-Flavor\": \"Google\"\n");
                return;
            }

            if (Hang)
            {
                Hanging.TrySetResult();
                var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (context.RequestAborted.Register(() => aborted.TrySetResult()))
                {
                    await aborted.Task;
                }

                return;
            }

            if (Down)
            {
                context.Response.StatusCode = 503;
                return;
            }

            if (context.Request.Path.Value != "/computeMetadata/v1/instance/service-accounts/default/identity")
            {
                context.Response.StatusCode = 404;
                return;
            }

            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            var claims = new JsonObject
            {
                ["aud"] = q["audience"].ToString(),
                ["azp"] = "112233",
                ["email"] = "123-compute@developer.gserviceaccount.com",
                ["email_verified"] = true,
                ["exp"] = now + 3600,
                ["iat"] = now,
                ["iss"] = "https://accounts.google.com",
                ["sub"] = "112233",
                ["google"] = new JsonObject
                {
                    ["compute_engine"] = new JsonObject
                    {
                        ["instance_creation_timestamp"] = now - 86400,
                        ["instance_id"] = "4711",
                        ["instance_name"] = "web-1",
                        ["project_id"] = "my-project",
                        ["project_number"] = 42,
                        ["zone"] = "europe-west1-b",
                    },
                },
            };
            var jwt = Sign(claims);
            _issued.Add(jwt);

            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync(jwt);
        }

        private string Sign(JsonObject claims)
        {
            static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var head = B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"kid\":\"test\",\"typ\":\"JWT\"}"));
            var body = B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
            var signature = _key.SignData(Encoding.ASCII.GetBytes(head + "." + body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return head + "." + body + "." + B64(signature);
        }

        public async ValueTask DisposeAsync()
        {
            await _upstream.DisposeAsync();
            _key.Dispose();
        }
    }
}
