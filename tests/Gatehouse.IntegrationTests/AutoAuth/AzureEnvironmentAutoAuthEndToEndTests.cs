using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Core.Pipeline;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The azure method with <c>authenticate_from_environment = true</c> through the real host: the token comes from
/// Azure.Identity's credentials built from the environment Gatehouse is given — AKS workload identity
/// (<c>AZURE_FEDERATED_TOKEN_FILE</c> + <c>AZURE_CLIENT_ID</c> + <c>AZURE_TENANT_ID</c>, the federated token sent as the
/// client assertion) and a client secret — against a loopback Entra ID emulator over HTTPS reached through
/// <c>AZURE_AUTHORITY_HOST</c> (Azure.Core's transport trusts the test CA; Azure.Identity insists on https), while the
/// instance metadata still comes from the metadata emulator, as Vault Agent does. DevVault's azure backend verifies
/// the emulator's token. No log line holds the assertion, the secret or the token.
/// </summary>
public sealed class AzureEnvironmentAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/azure/login";
    private const string Resource = "https://management.azure.com/";
    private const string Tenant = "00000000-aaaa-bbbb-cccc-000000000000";
    private const string ClientId = "22222222-3333-4444-5555-666666666666";
    private const string ObjectId = "11111111-2222-3333-4444-555555555555";

    private static async Task SetUpAzureAsync(OpsHarness h, EntraEmulator entra)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/azure", new { type = "azure" });
        await h.RootAsync(HttpMethod.Post, "auth/azure/config", new { tenant_id = Tenant, resource = Resource, dev_jwt_validation_pubkeys = new[] { entra.PublicKeyPem } });
        await h.RootAsync(HttpMethod.Post, "auth/azure/role/web", new
        {
            policies = "all", token_ttl = "1h", bound_service_principal_ids = new[] { ObjectId }, bound_subscription_ids = new[] { "sub-1234" },
            bound_resource_groups = new[] { "rg-aks" },
        });
    }

    private static string Hcl(OpsHarness h, string imdsEndpoint) => $$"""
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "azure" {
            config = {
              role                          = "web"
              resource                      = "{{Resource}}"
              authenticate_from_environment = true
              imds_endpoint                 = "{{imdsEndpoint}}"
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

    private static Action<IServiceCollection> Environment(EntraEmulator entra, params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        map["AZURE_AUTHORITY_HOST"] = entra.Address;
        map["AZURE_TENANT_ID"] = Tenant;
        map["AZURE_CLIENT_ID"] = ClientId;
        return services =>
        {
            services.AddSingleton(new AutoAuthEnvironment(name => map.GetValueOrDefault(name)));
            services.AddSingleton(new AzureIdentityTransport(new HttpClientTransport(entra.TrustingHandler())));
        };
    }

    /// <summary>The instance metadata endpoint only: the identity endpoint must not be asked in this mode.</summary>
    private static async Task<TestUpstream> StartInstanceMetadataAsync(ConcurrentQueue<string> asked)
    {
        var imds = await TestUpstream.StartAsync();
        imds.Handler = async context =>
        {
            asked.Enqueue(context.Request.Path.Value!);
            if (context.Request.Path.Value != "/metadata/instance" || context.Request.Headers["Metadata"] != "true")
            {
                context.Response.StatusCode = 404;
                return;
            }

            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                compute = new { name = "aks-node-1", resourceGroupName = "rg-aks", subscriptionId = "sub-1234", vmScaleSetName = "aks-pool" },
            }));
        };
        return imds;
    }

    [Fact]
    public async Task WorkloadIdentity_FederatedTokenAsClientAssertion_LogsIn_Renews_AndLogsInAgainWithTheRotatedToken()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var entra = await EntraEmulator.StartAsync(h.Time);
        var asked = new ConcurrentQueue<string>();
        await using var imds = await StartInstanceMetadataAsync(asked);
        await SetUpAzureAsync(h, entra);
        var tokenFile = h.PathOf("azure-identity-token");
        File.WriteAllText(tokenFile, "federated-sa-token-1");
        entra.Assertions["federated-sa-token-1"] = true;

        await h.StartGatehouseAsync(Hcl(h, imds.Address), configureServices: Environment(entra, ("AZURE_FEDERATED_TOKEN_FILE", tokenFile)));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        var grant = Assert.Single(entra.Grants);
        // Vault Agent's scope: "<resource>/.default", the resource's own trailing slash kept.
        Assert.Equal(($"/{Tenant}/oauth2/v2.0/token", ClientId, "https://management.azure.com//.default", "federated-sa-token-1"),
            (grant.Path, grant.ClientId, grant.Scope, grant.Credential));
        Assert.Equal(["/metadata/instance"], asked);
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first });
        Assert.Equal("aks-node-1", self!["data"]!["meta"]!["vm_name"]!.ToString());
        Assert.Equal("aks-pool", self["data"]!["meta"]!["vmss_name"]!.ToString());

        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Single(entra.Grants);

        // Kubernetes rotates the projected token; Vault revokes the Vault token: the next login reads the new file.
        File.WriteAllText(tokenFile, "federated-sa-token-2");
        entra.Assertions.Clear();
        entra.Assertions["federated-sa-token-2"] = true;
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal("federated-sa-token-2", entra.Grants[^1].Credential);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        Assert.DoesNotContain("federated-sa-token", h.ConsoleLog, StringComparison.Ordinal);
        foreach (var token in entra.Issued)
        {
            Assert.DoesNotContain(token.Split('.')[2], h.ConsoleLog, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClientSecret_Refused_BacksOffWithEntrasError_ThenLogsInWithTheRightSecret()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var entra = await EntraEmulator.StartAsync(h.Time);
        var asked = new ConcurrentQueue<string>();
        await using var imds = await StartInstanceMetadataAsync(asked);
        await SetUpAzureAsync(h, entra);
        entra.Secret = "not-yet";

        await h.StartGatehouseAsync(Hcl(h, imds.Address), configureServices: Environment(entra, ("AZURE_CLIENT_SECRET", "s3cret-client-value")));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("error getting a token from the environment (authenticate_from_environment) for scope https://management.azure.com//.default");
        await h.WaitForLogAsync("AADSTS7000215: Invalid client secret provided.");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        entra.Secret = "s3cret-client-value";
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal("s3cret-client-value", entra.Grants[^1].Credential);
        Assert.DoesNotContain("s3cret-client-value", h.ConsoleLog, StringComparison.Ordinal);
    }

    /// <summary>
    /// Through the real executable (the shipped Native AOT binary under scripts/test-published.sh): Azure.Identity's
    /// workload-identity credential from the process environment, the emulator's CA trusted through SSL_CERT_FILE.
    /// </summary>
    [Fact]
    [Trait("Executable", "true")]
    public async Task Executable_WorkloadIdentity_LogsIn()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var entra = await EntraEmulator.StartAsync(h.Time);
        var asked = new ConcurrentQueue<string>();
        await using var imds = await StartInstanceMetadataAsync(asked);
        await SetUpAzureAsync(h, entra);
        var tokenFile = h.PathOf("azure-identity-token");
        File.WriteAllText(tokenFile, "federated-sa-token-1");
        entra.Assertions["federated-sa-token-1"] = true;
        await File.WriteAllTextAsync(h.ConfigPath, Hcl(h, imds.Address));

        await using var gatehouse = GatehouseProcess.Start(["proxy", $"-config={h.ConfigPath}", "-log-level=debug"], new Dictionary<string, string>
        {
            ["HOME"] = Directory.CreateDirectory(h.PathOf("home")).FullName,
            ["SSL_CERT_FILE"] = entra.CaFile,
            ["AZURE_AUTHORITY_HOST"] = entra.Address,
            ["AZURE_TENANT_ID"] = Tenant,
            ["AZURE_CLIENT_ID"] = ClientId,
            ["AZURE_FEDERATED_TOKEN_FILE"] = tokenFile,
        }, "AZURE_", "IDENTITY_", "MSI_");
        await gatehouse.WaitForAsync("sink: token (accessor ");

        Assert.Equal("federated-sa-token-1", Assert.Single(entra.Grants).Credential);
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = await File.ReadAllTextAsync(h.PathOf("token-sink")) });
        Assert.Equal("aks-node-1", self!["data"]!["meta"]!["vm_name"]!.ToString());
        Assert.DoesNotContain("federated-sa-token", gatehouse.Output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Entra ID as far as Azure.Identity's client-credential flows use it, over HTTPS with the test CA: MSAL's instance
    /// discovery and OpenID metadata for the tenant, and the v2.0 token endpoint taking a client assertion (accepted
    /// when it is one of <see cref="Assertions"/>) or a client secret (<see cref="Secret"/>); it answers an access token
    /// signed with its key, for the scope's resource, as a v1 token (<c>iss</c> sts.windows.net) naming the identity's
    /// object id.
    /// </summary>
    private sealed class EntraEmulator : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TestCertificates _certificates;
        private readonly RSA _key = RSA.Create(2048);
        private readonly TimeProvider _time;
        private readonly Recorded<Grant> _grants = new();

        private EntraEmulator(WebApplication app, TestCertificates certificates, TimeProvider time, int port)
        {
            _app = app;
            _certificates = certificates;
            _time = time;
            Address = $"https://localhost:{port}/";
        }

        public sealed record Grant(string Path, string ClientId, string Scope, string Credential);

        public string Address { get; }

        public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

        public ConcurrentDictionary<string, bool> Assertions { get; } = new();

        public volatile string? Secret;

        public ConcurrentQueue<string> Issued { get; } = new();

        public IReadOnlyList<Grant> Grants => _grants.Snapshot();

        /// <summary>The test CA, for a process that trusts it through SSL_CERT_FILE.</summary>
        public string CaFile => _certificates.CaFile;

        public HttpMessageHandler TrustingHandler()
        {
            var handler = new SocketsHttpHandler();
            handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(_certificates.Ca);
            return handler;
        }

        public static async Task<EntraEmulator> StartAsync(TimeProvider time)
        {
            var certificates = TestCertificates.Create();
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificates.Server)));
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            EntraEmulator? emulator = null;
            app.Run(context => emulator!.HandleAsync(context));
            await app.StartAsync();
            emulator = new EntraEmulator(app, certificates, time, new Uri(app.Urls.First()).Port);
            return emulator;
        }

        private string Host => new Uri(Address).Authority;

        private async Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value!;
            if (path.EndsWith("/discovery/instance", StringComparison.Ordinal))
            {
                await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
                {
                    ["tenant_discovery_endpoint"] = $"https://{Host}/{Tenant}/v2.0/.well-known/openid-configuration",
                    ["api-version"] = "1.1",
                    ["metadata"] = new[] { new { preferred_network = Host, preferred_cache = Host, aliases = new[] { Host } } },
                });
            }
            else if (path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal))
            {
                await context.Response.WriteAsJsonAsync(new
                {
                    token_endpoint = $"https://{Host}/{Tenant}/oauth2/v2.0/token",
                    authorization_endpoint = $"https://{Host}/{Tenant}/oauth2/v2.0/authorize",
                    issuer = $"https://{Host}/{Tenant}/v2.0",
                });
            }
            else if (path == $"/{Tenant}/oauth2/v2.0/token" && context.Request.Method == "POST")
            {
                await TokenAsync(context, path);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        }

        private async Task TokenAsync(HttpContext context, string path)
        {
            var form = await context.Request.ReadFormAsync();
            var assertion = form["client_assertion"].ToString();
            var secret = form["client_secret"].ToString();
            string? refusal = null;
            if (form["grant_type"] != "client_credentials" || form["client_id"] != ClientId)
            {
                refusal = "AADSTS700016: Application not found in the directory.";
            }
            else if (assertion.Length > 0)
            {
                if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || !Assertions.ContainsKey(assertion))
                {
                    refusal = "AADSTS700213: No matching federated identity record found for presented assertion subject.";
                }
            }
            else if (secret.Length == 0 || secret != Secret)
            {
                refusal = "AADSTS7000215: Invalid client secret provided.";
            }

            if (refusal is not null)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = "invalid_client", error_description = refusal, error_codes = new[] { 7000215 } });
                return;
            }

            var scope = form["scope"].ToString();
            _grants.Add(new Grant(path, form["client_id"].ToString(), scope, assertion.Length > 0 ? assertion : secret));

            var resource = scope.Split(' ').First(s => s.EndsWith("/.default", StringComparison.Ordinal))[..^"/.default".Length];
            var token = Mint(resource);
            Issued.Enqueue(token);
            await context.Response.WriteAsJsonAsync(new { token_type = "Bearer", expires_in = 3599, ext_expires_in = 3599, access_token = token });
        }

        private string Mint(string audience)
        {
            static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            var head = B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
            var body = B64(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["aud"] = audience, ["iss"] = $"https://sts.windows.net/{Tenant}/", ["oid"] = ObjectId, ["appid"] = ClientId, ["iat"] = now, ["nbf"] = now,
                ["exp"] = now + 3600, ["sub"] = ObjectId,
            }));
            var sig = _key.SignData(Encoding.ASCII.GetBytes(head + "." + body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return head + "." + body + "." + B64(sig);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _certificates.Dispose();
            _key.Dispose();
        }
    }
}
