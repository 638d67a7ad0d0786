using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault.Tests;

public sealed class AuthMethodTests
{
    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Jwt(AsymmetricAlgorithm key, JsonObject claims, string? kid = null)
    {
        var alg = key is RSA ? "RS256" : "ES256";
        var head = B64(Encoding.UTF8.GetBytes(kid is null ? $"{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}" : $"{{\"alg\":\"{alg}\",\"kid\":\"{kid}\",\"typ\":\"JWT\"}}"));
        var body = B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(head + "." + body);
        var sig = key is RSA rsa ? rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) : ((ECDsa)key).SignData(data, HashAlgorithmName.SHA256);
        return head + "." + body + "." + B64(sig);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Jwt_Login_VerifiesSignatureAudienceAndSubject(bool rsa)
    {
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = rsa ? ((RSA)key).ExportSubjectPublicKeyInfoPem() : ((ECDsa)key).ExportSubjectPublicKeyInfoPem();
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/jwt", body: new { type = "jwt" });
        await vault.OkAsync("POST", "auth/jwt/config", body: new { jwt_validation_pubkeys = new[] { pem } });
        await vault.OkAsync("POST", "auth/jwt/role/app", body: new
        {
            role_type = "jwt", bound_audiences = new[] { "gatehouse" }, bound_subject = "svc", user_claim = "sub",
            token_policies = new[] { "default" }, token_ttl = "15m",
        });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var good = Jwt(key, new JsonObject { ["sub"] = "svc", ["aud"] = "gatehouse", ["exp"] = now + 300, ["iat"] = now });
        var login = await vault.OkAsync("POST", "auth/jwt/login", null, new { role = "app", jwt = good });
        Assert.Equal(900, login["auth"]!["lease_duration"]!.GetValue<int>());
        Assert.Equal("app", login["auth"]!["metadata"]!["role"]!.ToString());

        var wrongAud = Jwt(key, new JsonObject { ["sub"] = "svc", ["aud"] = "other", ["exp"] = now + 300 });
        Assert.Equal(400, (await vault.SendAsync("POST", "auth/jwt/login", body: new { role = "app", jwt = wrongAud })).Status);
        var wrongSub = Jwt(key, new JsonObject { ["sub"] = "intruder", ["aud"] = "gatehouse", ["exp"] = now + 300 });
        Assert.Equal(400, (await vault.SendAsync("POST", "auth/jwt/login", body: new { role = "app", jwt = wrongSub })).Status);
        using var otherKey = RSA.Create(2048);
        var forged = Jwt(otherKey, new JsonObject { ["sub"] = "svc", ["aud"] = "gatehouse", ["exp"] = now + 300 });
        var (status, body, _) = await vault.SendAsync("POST", "auth/jwt/login", body: new { role = "app", jwt = forged });
        Assert.Equal(400, status);
        Assert.Equal("error validating token: failed to verify id token signature", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Azure_Login_VerifiesSignatureAudienceIssuerExpiryAndBounds_InVaultsWords()
    {
        using var key = RSA.Create(2048);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        const string resource = "https://management.azure.com/";
        const string tenant = "tenant-1";
        await vault.OkAsync("POST", "sys/auth/azure", body: new { type = "azure" });
        await vault.OkAsync("POST", "auth/azure/config", body: new
        {
            tenant_id = tenant, resource, client_secret = "not-read-back", dev_jwt_validation_pubkeys = new[] { key.ExportSubjectPublicKeyInfoPem() },
        });
        await vault.OkAsync("POST", "auth/azure/role/web", body: new
        {
            policies = new[] { "default" }, token_ttl = "20m", bound_subscription_ids = new[] { "sub-1" }, bound_resource_groups = new[] { "rg-1" },
        });
        var config = await vault.OkAsync("GET", "auth/azure/config");
        Assert.Null(config["data"]!["client_secret"]);

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        JsonObject Claims(string aud = resource, string iss = $"https://sts.windows.net/{tenant}/", long exp = 300) =>
            new() { ["aud"] = aud, ["iss"] = iss, ["oid"] = "oid-1", ["exp"] = now + exp, ["nbf"] = now };
        object Body(string jwt, string group = "rg-1", string role = "web") =>
            new { role, jwt, subscription_id = "sub-1", resource_group_name = group, vm_name = "vm-1", vmss_name = "" };

        var login = await vault.OkAsync("POST", "auth/azure/login", null, Body(Jwt(key, Claims())));
        Assert.Equal(1200, login["auth"]!["lease_duration"]!.GetValue<int>());
        var meta = login["auth"]!["metadata"]!;
        Assert.Equal("web", meta["role"]!.ToString());
        Assert.Equal("vm-1", meta["vm_name"]!.ToString());
        Assert.Null(meta["vmss_name"]);

        async Task Refused(object body, int status, string message)
        {
            var (s, b, _) = await vault.SendAsync("POST", "auth/azure/login", body: body);
            Assert.Equal(status, s);
            Assert.Contains(message, b!["errors"]![0]!.ToString(), StringComparison.Ordinal);
        }

        await Refused(new { role = "web" }, 400, "jwt is required");
        await Refused(new { jwt = Jwt(key, Claims()) }, 400, "role is required");
        await Refused(Body(Jwt(key, Claims()), role: "nope"), 400, "invalid role name \"nope\"");
        using var otherKey = RSA.Create(2048);
        await Refused(Body(Jwt(otherKey, Claims())), 500, "failed to verify signature");
        await Refused(Body(Jwt(key, Claims(aud: "https://vault.example/"))), 500, "oidc: expected audience");
        await Refused(Body(Jwt(key, Claims(iss: "https://sts.windows.net/other/"))), 500, "issued by a different provider");
        await Refused(Body(Jwt(key, Claims(exp: -600))), 500, "oidc: token is expired");
        await Refused(Body(Jwt(key, Claims()), group: "rg-2"), 500, "resource group not authorized");
        await Refused(Body(Jwt(key, Claims()), group: ""), 500, "subscription_id and resource_group_name are required");
    }

    [Fact]
    public async Task Kubernetes_Login_VerifiesServiceAccountJwtItself()
    {
        using var key = RSA.Create(2048);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/kubernetes", body: new { type = "kubernetes" });
        await vault.OkAsync("POST", "auth/kubernetes/config", body: new
        {
            kubernetes_host = "https://kubernetes.default.svc", pem_keys = new[] { key.ExportSubjectPublicKeyInfoPem() },
        });
        await vault.OkAsync("POST", "auth/kubernetes/role/web", body: new
        {
            bound_service_account_names = new[] { "web" }, bound_service_account_namespaces = new[] { "prod" },
            token_policies = new[] { "default" }, token_ttl = "1h",
        });
        JsonObject Claims(string ns) => new()
        {
            ["iss"] = "kubernetes/serviceaccount",
            ["sub"] = $"system:serviceaccount:{ns}:web",
            ["kubernetes.io"] = new JsonObject { ["namespace"] = ns, ["serviceaccount"] = new JsonObject { ["name"] = "web", ["uid"] = "uid-1" } },
        };
        var login = await vault.OkAsync("POST", "auth/kubernetes/login", null, new { role = "web", jwt = Jwt(key, Claims("prod")) });
        Assert.Equal("prod", login["auth"]!["metadata"]!["service_account_namespace"]!.ToString());
        var (status, body, _) = await vault.SendAsync("POST", "auth/kubernetes/login", body: new { role = "web", jwt = Jwt(key, Claims("dev")) });
        Assert.Equal(403, status);
        Assert.Equal("namespace not authorized", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Cert_Login_UsesTlsClientCertificateChainingToConfiguredCa()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=DevVault Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest("CN=app.example.com", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var clientPublic = clientRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3, 4]);
        using var clientCert = X509CertificateLoader.LoadPkcs12(clientPublic.CopyWithPrivateKey(clientKey).Export(X509ContentType.Pkcs12), null);

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var serverSelf = serverRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var serverCert = X509CertificateLoader.LoadPkcs12(serverSelf.Export(X509ContentType.Pkcs12), null);

        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsCertificate = serverCert });
        Assert.Equal("https", server.Address.Scheme);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        handler.ClientCertificates.Add(clientCert);
        using var http = new HttpClient(handler) { BaseAddress = server.Address };
        http.DefaultRequestHeaders.Add("X-Vault-Token", server.RootToken);
        (await http.PostAsJsonAsync("/v1/sys/auth/cert", new { type = "cert" })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/v1/auth/cert/certs/apps", new { certificate = ca.ExportCertificatePem(), token_policies = "default", token_ttl = "10m" })).EnsureSuccessStatusCode();
        http.DefaultRequestHeaders.Remove("X-Vault-Token");
        var response = await http.PostAsJsonAsync("/v1/auth/cert/login", new { });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        Assert.Equal("apps", body["auth"]!["metadata"]!["cert_name"]!.ToString());
        Assert.Equal(600, body["auth"]!["lease_duration"]!.GetValue<int>());

        using var plain = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = server.Address };
        var refused = await plain.PostAsJsonAsync("/v1/auth/cert/login", new { });
        Assert.Equal(400, (int)refused.StatusCode);
    }

    [Fact]
    public async Task Ldap_Login_ChecksTheDirectoryAndGivesUserAndGroupPolicies()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/ldap", body: new { type = "ldap" });
        await vault.OkAsync("POST", "auth/ldap/config", body: new { url = "ldap://ldap.example", token_ttl = "20m" });
        await vault.OkAsync("POST", "auth/ldap/dev-directory/Alice", body: new { password = "s3cret\n", groups = "Engineers" });
        await vault.OkAsync("POST", "auth/ldap/groups/engineers", body: new { policies = "eng" });
        await vault.OkAsync("POST", "auth/ldap/groups/ops", body: new { policies = "ops,shared" });
        await vault.OkAsync("POST", "auth/ldap/users/ALICE", body: new { groups = "Ops", policies = "own" });

        var user = await vault.OkAsync("GET", "auth/ldap/users/alice");
        Assert.Equal("ops", user["data"]!["groups"]!.ToString());
        var login = await vault.OkAsync("PUT", "auth/ldap/login/Alice", null, new { password = "s3cret\n" });
        var auth = login["auth"]!;
        Assert.Equal(["default", "eng", "ops", "own", "shared"], auth["policies"]!.AsArray().Select(p => p!.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal("Alice", auth["metadata"]!["username"]!.ToString());
        Assert.Equal(1200, auth["lease_duration"]!.GetValue<int>());
        Assert.True(auth["renewable"]!.GetValue<bool>());
        var self = await vault.OkAsync("GET", "auth/token/lookup-self", auth["client_token"]!.ToString());
        Assert.Equal("auth/ldap/login/Alice", self["data"]!["path"]!.ToString());
        Assert.Equal("ldap-Alice", self["data"]!["display_name"]!.ToString());

        // Vault's answers: the password is compared exactly (a missing line break is a different password).
        foreach (var (name, password) in new[] { ("Alice", "s3cret"), ("bob", "s3cret\n") })
        {
            var (status, body, _) = await vault.SendAsync("PUT", $"auth/ldap/login/{name}", body: new { password });
            Assert.Equal(400, status);
            Assert.Equal("ldap operation failed: failed to bind as user", body!["errors"]![0]!.ToString());
        }

        var (emptyStatus, emptyBody, _) = await vault.SendAsync("PUT", "auth/ldap/login/Alice", body: new { password = "" });
        Assert.Equal(400, emptyStatus);
        Assert.Equal("password cannot be of zero length when passwordless binds are being denied", emptyBody!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Kerberos_ConfigAndLogin_RefuseWhatVaultRefuses_AndABadTokenIsA401NotACrash()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/kerberos", body: new { type = "kerberos" });
        var negotiate = new Dictionary<string, string> { ["Authorization"] = "Negotiate " + Convert.ToBase64String("not a SPNEGO token"u8.ToArray()) };

        // Logins before the configs: Vault's errors.
        var (status, body, _) = await vault.SendAsync("PUT", "auth/kerberos/login", headers: negotiate);
        Assert.Equal(500, status);
        Assert.Equal("backend kerberos not configured", body!["errors"]![0]!.ToString());

        // config needs a service account and a keytab (a keytab file starts with 0x05 0x02); the keytab is never read back.
        var emptyKeytab = Convert.ToBase64String(new byte[] { 5, 2 });
        foreach (var (bad, message) in new (object, string)[]
        {
            (new { keytab = emptyKeytab }, "data does not contain service_account"),
            (new { service_account = "vault_svc" }, "data does not contain keytab"),
            (new { service_account = "vault_svc", keytab = Convert.ToBase64String("junk"u8.ToArray()) }, "invalid keytab: "),
        })
        {
            (status, body, _) = await vault.SendAsync("POST", "auth/kerberos/config", server.RootToken, bad);
            Assert.Equal(400, status);
            Assert.StartsWith(message, body!["errors"]![0]!.ToString(), StringComparison.Ordinal);
        }
        await vault.OkAsync("POST", "auth/kerberos/config", body: new { service_account = "vault_svc", keytab = emptyKeytab });
        var config = await vault.OkAsync("GET", "auth/kerberos/config");
        Assert.Equal("vault_svc", config["data"]!["service_account"]!.ToString());
        Assert.Null(config["data"]!["keytab"]);

        (status, body, _) = await vault.SendAsync("PUT", "auth/kerberos/login", headers: negotiate);
        Assert.Equal(500, status);
        Assert.Equal("ldap backend not configured", body!["errors"]![0]!.ToString());
        await vault.OkAsync("POST", "auth/kerberos/config/ldap", body: new { url = "ldap://ldap.example", upndomain = "EXAMPLE.COM" });

        // Not Negotiate: Vault asks for it. Not a Kerberos token: GSSAPI refuses it, a 401 with the reason.
        (status, body, _) = await vault.SendAsync("PUT", "auth/kerberos/login", headers: new() { ["Authorization"] = "Basic YTpi" });
        Assert.Equal(401, status);
        Assert.Equal("authentication required", body!["errors"]![0]!.ToString());
        (status, body, _) = await vault.SendAsync("PUT", "auth/kerberos/login", headers: negotiate);
        Assert.Equal(401, status);
        Assert.StartsWith("SPNEGO authentication failed: ", body!["errors"]![0]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gcp_GceLogin_VerifiesSignatureExpiryAudienceSuffixAndBoundFields()
    {
        using var key = RSA.Create(2048);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/gcp", body: new { type = "gcp" });
        await vault.OkAsync("POST", "auth/gcp/dev-keys", body: new { pem_keys = new[] { key.ExportSubjectPublicKeyInfoPem() } });
        await vault.OkAsync("POST", "auth/gcp/role/web", body: new
        {
            type = "gce", policies = "default", bound_projects = "my-project", bound_zones = "europe-west1-b", token_ttl = "15m",
        });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        JsonObject Claims(string aud = "https://vault.example.com/vault/web", string zone = "europe-west1-b", long? exp = null) => new()
        {
            ["aud"] = aud, ["email"] = "sa@my-project.iam.gserviceaccount.com", ["exp"] = exp ?? now + 300, ["iat"] = now,
            ["google"] = new JsonObject
            {
                ["compute_engine"] = new JsonObject
                {
                    ["project_id"] = "my-project", ["zone"] = zone, ["instance_name"] = "web-1", ["instance_id"] = "4711",
                },
            },
        };
        async Task<string> RefusedAsync(string jwt, string role = "web")
        {
            var (status, body, _) = await vault.SendAsync("POST", "auth/gcp/login", body: new { role, jwt });
            Assert.Equal(400, status);
            return body!["errors"]![0]!.ToString();
        }

        var login = await vault.OkAsync("POST", "auth/gcp/login", null, new { role = "web", jwt = Jwt(key, Claims()) });
        Assert.Equal(900, login["auth"]!["lease_duration"]!.GetValue<int>());
        Assert.Equal("my-project", login["auth"]!["metadata"]!["project_id"]!.ToString());
        Assert.Equal("web-1", login["auth"]!["metadata"]!["instance_name"]!.ToString());

        Assert.Equal("at least one of the JWT claim 'aud' must end in \"vault/web\"", await RefusedAsync(Jwt(key, Claims(aud: "https://vault.example.com/vault/other"))));
        Assert.StartsWith("instance zone us-east1-b is not in role zones", await RefusedAsync(Jwt(key, Claims(zone: "us-east1-b"))), StringComparison.Ordinal);
        Assert.Contains("token is expired", await RefusedAsync(Jwt(key, Claims(exp: now - 3600))), StringComparison.Ordinal);
        using var otherKey = RSA.Create(2048);
        Assert.Contains("failed to verify", await RefusedAsync(Jwt(otherKey, Claims())), StringComparison.Ordinal);
        Assert.Equal("invalid role name \"nope\"", await RefusedAsync(Jwt(key, Claims()), role: "nope"));
        Assert.Equal("jwt argument is required", await RefusedAsync(""));
    }

    [Fact]
    public async Task Gcp_IamLogin_VerifiesTheKeyTheKidNames_ExpiryRules_AudienceAndBoundServiceAccounts()
    {
        using var key = RSA.Create(2048);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        const string Email = "vault-auth@my-project.iam.gserviceaccount.com";
        await vault.OkAsync("POST", "sys/auth/gcp", body: new { type = "gcp" });
        await vault.OkAsync("POST", $"auth/gcp/dev-service-accounts/{Email}", body: new
        {
            unique_id = "1234567890", project_id = "my-project", public_keys = new Dictionary<string, string> { ["k1"] = key.ExportSubjectPublicKeyInfoPem() },
        });
        await vault.OkAsync("POST", "auth/gcp/role/app", body: new { type = "iam", policies = "default", bound_service_accounts = Email, token_ttl = "15m" });
        await vault.OkAsync("POST", "auth/gcp/role/other", body: new { type = "iam", bound_service_accounts = "someone@else.iam.gserviceaccount.com" });
        await vault.OkAsync("POST", "auth/gcp/role/wide", body: new { type = "iam", bound_service_accounts = "*", max_jwt_exp = "30m", bound_projects = "my-project" });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        JsonObject Claims(string aud = "http://vault/app", long? exp = null, string sub = Email) => new()
        {
            ["aud"] = aud, ["exp"] = exp ?? now + 900, ["sub"] = sub,
        };
        async Task<string> RefusedAsync(string jwt, string role = "app")
        {
            var (status, body, _) = await vault.SendAsync("POST", "auth/gcp/login", body: new { role, jwt });
            Assert.Equal(400, status);
            return body!["errors"]![0]!.ToString();
        }

        var login = await vault.OkAsync("POST", "auth/gcp/login", null, new { role = "app", jwt = Jwt(key, Claims(), kid: "k1") });
        Assert.Equal(900, login["auth"]!["lease_duration"]!.GetValue<int>());
        Assert.Equal(Email, login["auth"]!["metadata"]!["service_account_email"]!.ToString());
        Assert.Equal("1234567890", login["auth"]!["metadata"]!["service_account_id"]!.ToString());
        Assert.Equal("my-project", login["auth"]!["metadata"]!["project_id"]!.ToString());
        // By unique id as the subject, and a role allowing 30 minutes.
        await vault.OkAsync("POST", "auth/gcp/login", null, new { role = "wide", jwt = Jwt(key, Claims(aud: "http://vault/wide", sub: "1234567890", exp: now + 1800), kid: "k1") });

        Assert.Equal("role requires that service account JWTs expire within 900 seconds", await RefusedAsync(Jwt(key, Claims(exp: now + 1800), kid: "k1")));
        Assert.StartsWith("JWT must expire in 60 minutes, expires in", await RefusedAsync(Jwt(key, Claims(exp: now + 7200), kid: "k1")), StringComparison.Ordinal);
        Assert.Equal("JWT is expired or does not have proper 'exp' claim", await RefusedAsync(Jwt(key, Claims(exp: now - 600), kid: "k1")));
        Assert.Equal("at least one of the JWT claim 'aud' must end in \"vault/app\"", await RefusedAsync(Jwt(key, Claims(aud: "http://vault/other"), kid: "k1")));
        Assert.Equal($"service account {Email} (id: 1234567890) is not authorized for role",
            await RefusedAsync(Jwt(key, Claims(aud: "http://vault/other"), kid: "k1"), role: "other"));
        Assert.Contains("unable to get public key \"k2\"", await RefusedAsync(Jwt(key, Claims(), kid: "k2")), StringComparison.Ordinal);
        using var otherKey = RSA.Create(2048);
        Assert.Contains("cryptographic primitive", await RefusedAsync(Jwt(otherKey, Claims(), kid: "k1")), StringComparison.Ordinal);

        var (roleStatus, roleBody, _) = await vault.SendAsync("POST", "auth/gcp/role/bad", server.RootToken, new { type = "iam" });
        Assert.Equal(400, roleStatus);
        Assert.Equal("IAM role type must have at least one service account", roleBody!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Cf_Login_VerifiesChainSignatureSigningTimeWindowAndBounds()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=instanceIdentityCA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        using var key = RSA.Create(2048);
        var name = new X500DistinguishedNameBuilder();
        name.AddOrganizationalUnitName("organization:org-1");
        name.AddOrganizationalUnitName("space:space-1");
        name.AddOrganizationalUnitName("app:app-1");
        name.AddCommonName("instance-1");
        var leafRequest = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var leaf = leafRequest.Create(ca, now.AddHours(-1), now.AddHours(1), [1, 2, 3]);
        var certPem = leaf.ExportCertificatePem();
        using var stranger = RSA.Create(2048);
        using var selfSigned = new CertificateRequest(name.Build(), stranger, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(now.AddHours(-1), now.AddHours(1));
        await vault.OkAsync("POST", "sys/auth/cf", body: new { type = "cf" });
        await vault.OkAsync("POST", "auth/cf/config", body: new { identity_ca_certificates = new[] { ca.ExportCertificatePem() } });
        await vault.OkAsync("POST", "auth/cf/roles/web", body: new { policies = "default", disable_ip_matching = true, bound_space_ids = "space-1", token_ttl = "10m" });
        await vault.OkAsync("POST", "auth/cf/roles/other", body: new { disable_ip_matching = true, bound_application_ids = "app-2" });
        object Body(string role, DateTimeOffset at, string cert, RSA signer, string? signedRole = null)
        {
            var time = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            var sig = signer.SignData(Encoding.UTF8.GetBytes(time + cert + (signedRole ?? role)), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            return new { role, cf_instance_cert = cert, signing_time = time, signature = "v1:" + Convert.ToBase64String(sig) };
        }
        async Task<string> RefusedAsync(object body)
        {
            var (status, answer, _) = await vault.SendAsync("POST", "auth/cf/login", body: body);
            Assert.Equal(400, status);
            return answer!["errors"]![0]!.ToString();
        }

        var login = await vault.OkAsync("POST", "auth/cf/login", null, Body("web", now, certPem, key));
        Assert.Equal("instance-1", login["auth"]!["metadata"]!["instance_id"]!.ToString());
        Assert.Equal("org-1", login["auth"]!["metadata"]!["org_id"]!.ToString());

        Assert.StartsWith("request is too old;", await RefusedAsync(Body("web", now.AddMinutes(-10), certPem, key)), StringComparison.Ordinal);
        Assert.StartsWith("request is too far in the future;", await RefusedAsync(Body("web", now.AddMinutes(5), certPem, key)), StringComparison.Ordinal);
        Assert.Contains("crypto/rsa: verification error", await RefusedAsync(Body("web", now, certPem, key, signedRole: "other")), StringComparison.Ordinal);
        Assert.Equal("x509: certificate signed by unknown authority", await RefusedAsync(Body("web", now, selfSigned.ExportCertificatePem(), stranger)));
        Assert.Equal("app ID app-1 doesn't match role constraints of [app-2]", await RefusedAsync(Body("other", now, certPem, key)));
    }

    [Fact]
    public async Task Oci_Login_VerifiesTheSignatureRebuiltFromRequestHeaders_DateWindowTenancyAndGroups()
    {
        using var key = RSA.Create(2048);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        const string Tenancy = "ocid1.tenancy.oc1..home";
        const string KeyId = Tenancy + "/ocid1.user.oc1..alice/aa:bb";
        await vault.OkAsync("POST", "sys/auth/oci", body: new { type = "oci" });
        await vault.OkAsync("POST", "auth/oci/dev-api-keys", body: new { key_id = KeyId, public_key = key.ExportSubjectPublicKeyInfoPem(), groups = new[] { "ocid1.group.oc1..devs" } });
        await vault.OkAsync("POST", "auth/oci/role/web", body: new { ocid_list = "ocid1.group.oc1..devs,ocid1.group.oc1..ops", token_policies = "default", token_ttl = "10m" });
        await vault.OkAsync("POST", "auth/oci/role/ops", body: new { ocid_list = "ocid1.group.oc1..ops" });
        JsonObject Headers(RSA signer, string role = "web", DateTimeOffset? at = null, string keyId = KeyId, string? target = null)
        {
            var date = (at ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("r", CultureInfo.InvariantCulture);
            target ??= $"get /v1/auth/oci/login/{role}";
            var text = $"date: {date}\n(request-target): {target}\nhost: 127.0.0.1:8200";
            var signature = Convert.ToBase64String(signer.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            return new JsonObject
            {
                ["(request-target)"] = new JsonArray(target),
                ["Authorization"] = new JsonArray($"Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"{keyId}\",algorithm=\"rsa-sha256\",signature=\"{signature}\""),
                ["Date"] = new JsonArray(date),
                ["Host"] = new JsonArray("127.0.0.1:8200"),
            };
        }
        async Task<string> RefusedAsync(JsonObject headers, string role = "web")
        {
            var (status, body, _) = await vault.SendAsync("PUT", $"auth/oci/login/{role}", body: new JsonObject { ["request_headers"] = headers });
            Assert.Equal(400, status);
            return body!["errors"]![0]!.ToString();
        }

        // Before home_tenancy_id is configured no login passes.
        Assert.Equal("Home Tenancy is invalid", await RefusedAsync(Headers(key)));
        await vault.OkAsync("POST", "auth/oci/config", body: new { home_tenancy_id = Tenancy });

        var login = await vault.OkAsync("PUT", "auth/oci/login/web", null, new JsonObject { ["request_headers"] = Headers(key) });
        Assert.Equal(600, login["auth"]!["lease_duration"]!.GetValue<int>());
        Assert.False(login["auth"]!["renewable"]!.GetValue<bool>());
        Assert.Equal("web", login["auth"]!["metadata"]!["role_name"]!.ToString());

        using var otherKey = RSA.Create(2048);
        Assert.Equal("OCI authentication failed", await RefusedAsync(Headers(otherKey)));
        Assert.Equal("OCI authentication failed", await RefusedAsync(Headers(key, at: DateTimeOffset.UtcNow.AddMinutes(-6))));
        Assert.Equal("OCI authentication failed", await RefusedAsync(Headers(key, keyId: Tenancy + "/ocid1.user.oc1..bob/cc:dd")));
        var tampered = Headers(key);
        tampered["Host"] = new JsonArray("vault.example.com");
        Assert.Equal("OCI authentication failed", await RefusedAsync(tampered));
        Assert.Equal("incorrect (request-target) specified in header", await RefusedAsync(Headers(key, target: "get /v1/auth/oci/login/ops")));
        Assert.Equal("incorrect (request-target) specified in header", await RefusedAsync(Headers(key, target: "post /v1/auth/oci/login/web")));
        Assert.Equal("no (request-target) specified in header", await RefusedAsync([]));
        Assert.Equal("Entity not a part of any of the Role OCIDs", await RefusedAsync(Headers(key, role: "ops"), role: "ops"));
        Assert.Equal("Role is not found", await RefusedAsync(Headers(key, role: "nope"), role: "nope"));

        await vault.OkAsync("POST", "auth/oci/config", body: new { home_tenancy_id = "ocid1.tenancy.oc1..elsewhere" });
        Assert.Equal("Invalid Tenancy", await RefusedAsync(Headers(key)));
    }
}
