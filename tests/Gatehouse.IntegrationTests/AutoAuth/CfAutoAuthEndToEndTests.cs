using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.AutoAuth;
using Gatehouse.IntegrationTests.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The cf method through the real host: a Cloud Foundry instance identity (an RSA certificate from a test CA with the
/// instance GUID as CN, the org, space and app GUIDs as OUs and the instance's IP, and its PKCS#1 key) in the files
/// <c>CF_INSTANCE_CERT</c>/<c>CF_INSTANCE_KEY</c> name, in the environment Gatehouse is given; DevVault's cf backend
/// verifies the chain, the RSA-PSS signature, the signing time and the role's bounds. Login, renewal, a new login with
/// a rotated identity, Vault's refusal and missing files; the key and signature never reach a log line.
/// </summary>
public sealed class CfAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/cf/login";
    private const string Org = "34a878d0-c2f9-4521-ba73-a9f664e82c7b";
    private const string Space = "3d2eba6b-ef19-44d5-91dd-1975b0db5cc9";
    private const string App = "2d3e834a-3a25-4591-974c-fa5626d5d0a1";

    private sealed class CfIdentity : IDisposable
    {
        private readonly RSA _caKey = RSA.Create(2048);

        public CfIdentity(DateTimeOffset now)
        {
            var request = new CertificateRequest("CN=instanceIdentityCA", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            Ca = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        }

        public X509Certificate2 Ca { get; }

        public string CaPem => Ca.ExportCertificatePem();

        /// <summary>Writes an instance identity for <paramref name="instance"/> (CF's shape); returns the key PEM.</summary>
        public string Write(string certPath, string keyPath, string instance, DateTimeOffset now)
        {
            using var key = RSA.Create(2048);
            var name = new X500DistinguishedNameBuilder();
            name.AddOrganizationalUnitName($"organization:{Org}");
            name.AddOrganizationalUnitName($"space:{Space}");
            name.AddOrganizationalUnitName($"app:{App}");
            name.AddCommonName(instance);
            var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.Create(Ca, now.AddHours(-1), now.AddHours(24), RandomNumberGenerator.GetBytes(8));
            File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n" + CaPem + "\n");
            var keyPem = key.ExportRSAPrivateKeyPem();
            File.WriteAllText(keyPath, keyPem);
            return keyPem;
        }

        public void Dispose()
        {
            Ca.Dispose();
            _caKey.Dispose();
        }
    }

    private static async Task SetUpCfAsync(OpsHarness h, CfIdentity identity, string boundSpace = Space)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/cf", new { type = "cf" });
        await h.RootAsync(HttpMethod.Post, "auth/cf/config", new { identity_ca_certificates = new[] { identity.CaPem } });
        await h.RootAsync(HttpMethod.Post, "auth/cf/roles/web", new
        {
            policies = "all", token_ttl = "1h", bound_organization_ids = Org, bound_space_ids = boundSpace, bound_application_ids = App,
        });
    }

    private static string Hcl(OpsHarness h) => $$"""
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "cf" {
            config = {
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

    private static Action<IServiceCollection> Environment(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return services => services.AddSingleton(new AutoAuthEnvironment(name => map.GetValueOrDefault(name)));
    }

    [Fact]
    public async Task Cf_SignsTheInstanceIdentity_LogsIn_Renews_AndLogsInAgainWithTheRotatedIdentity()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        using var identity = new CfIdentity(h.Time.GetUtcNow());
        await SetUpCfAsync(h, identity);
        string certPath = h.PathOf("instance.crt"), keyPath = h.PathOf("instance.key");
        var firstKey = identity.Write(certPath, keyPath, "instance-1", h.Time.GetUtcNow());

        await h.StartGatehouseAsync(Hcl(h), configureServices: Environment(("CF_INSTANCE_CERT", certPath), ("CF_INSTANCE_KEY", keyPath)));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first });
        Assert.Equal("instance-1", self!["data"]!["meta"]!["instance_id"]!.ToString());
        Assert.Equal(App, self["data"]!["meta"]!["app_id"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));

        // Diego rotates the identity (new certificate and key in the same files); Vault revokes the token.
        var secondKey = identity.Write(certPath, keyPath, "instance-1b", h.Time.GetUtcNow());
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        var again = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = second });
        Assert.Equal("instance-1b", again!["data"]!["meta"]!["instance_id"]!.ToString());
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));

        foreach (var key in new[] { firstKey, secondKey })
        {
            Assert.DoesNotContain(key.Split('\n')[1], h.ConsoleLog, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("v1:", h.ConsoleLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cf_OutsideTheRolesSpace_BacksOffWithVaultsRefusal()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        using var identity = new CfIdentity(h.Time.GetUtcNow());
        await SetUpCfAsync(h, identity, boundSpace: "another-space");
        string certPath = h.PathOf("instance.crt"), keyPath = h.PathOf("instance.key");
        identity.Write(certPath, keyPath, "instance-1", h.Time.GetUtcNow());

        await h.StartGatehouseAsync(Hcl(h), configureServices: Environment(("CF_INSTANCE_CERT", certPath), ("CF_INSTANCE_KEY", keyPath)));

        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync($"space ID {Space} doesn't match role constraints of [another-space]");
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Cf_NoInstanceIdentityInTheEnvironment_BacksOffNamingTheVariable_ThenLogsInOnceTheFilesAppear()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        using var identity = new CfIdentity(h.Time.GetUtcNow());
        await SetUpCfAsync(h, identity);
        string certPath = h.PathOf("instance.crt"), keyPath = h.PathOf("instance.key");

        await h.StartGatehouseAsync(Hcl(h), configureServices: Environment(("CF_INSTANCE_CERT", certPath), ("CF_INSTANCE_KEY", keyPath)));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"error reading CF_INSTANCE_CERT file {certPath}");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        identity.Write(certPath, keyPath, "instance-1", h.Time.GetUtcNow());
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }
}
