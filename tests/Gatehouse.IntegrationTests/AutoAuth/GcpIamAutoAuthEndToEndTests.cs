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
/// The gcp method with <c>type = "iam"</c> through the real host: Application Default Credentials found from the
/// environment Gatehouse is given (a service account key named by <c>GOOGLE_APPLICATION_CREDENTIALS</c> whose
/// <c>token_uri</c> is a loopback OAuth emulator, or the GCE metadata server through <c>GCE_METADATA_HOST</c>),
/// the JWT-bearer token request (GoogleAccessToken, as Go's oauth2/google) verified by the emulator against the key, the login JWT signed by the
/// emulated IAM Credentials <c>signJwt</c> (reached through the Gatehouse-only <c>iam_credentials_endpoint</c>) with
/// the target service account's key, and DevVault's gcp backend verifying it as Vault does. No log line holds a key,
/// an access token or the signed JWT.
/// </summary>
public sealed class GcpIamAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/gcp/login";
    private const string Runner = "runner@my-project.iam.gserviceaccount.com";
    private const string Target = "vault-auth@my-project.iam.gserviceaccount.com";

    private static async Task SetUpGcpAsync(OpsHarness h, GoogleEmulator google, string maxJwtExp = "15m")
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/gcp", new { type = "gcp" });
        await h.RootAsync(HttpMethod.Post, $"auth/gcp/dev-service-accounts/{Target}", new
        {
            unique_id = "1234567890",
            project_id = "my-project",
            public_keys = new Dictionary<string, string> { [GoogleEmulator.TargetKeyId] = google.TargetPublicKeyPem },
        });
        await h.RootAsync(HttpMethod.Post, "auth/gcp/role/app", new
        {
            type = "iam",
            policies = "all",
            bound_service_accounts = Target,
            max_jwt_exp = maxJwtExp,
            token_ttl = "1h",
        });
    }

    private static string Hcl(OpsHarness h, GoogleEmulator google, string extra = "") => $$"""
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "gcp" {
            config = {
              type                     = "iam"
              role                     = "app"
              service_account          = "{{Target}}"
              iam_credentials_endpoint = "{{google.Address}}"
              {{extra}}
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

    /// <summary>The environment Gatehouse sees: HOME is the test's directory, so no real key file is ever read.</summary>
    private static Action<IServiceCollection> Environment(OpsHarness h, params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        map["HOME"] = h.PathOf("home");
        return services => services.AddSingleton(new AutoAuthEnvironment(name => map.GetValueOrDefault(name)));
    }

    private static string WriteKeyFile(OpsHarness h, GoogleEmulator google, RSA key, string keyId)
    {
        var path = h.PathOf("adc.json");
        File.WriteAllText(path, new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "my-project",
            ["private_key_id"] = keyId,
            ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = Runner,
            ["client_id"] = "42",
            ["token_uri"] = google.Address + "/token",
        }.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Iam_ServiceAccountKeyFromAdc_SignsThroughSignJwt_LogsIn_Renews_AndLogsInAgainWithTheRotatedKey()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google);
        using var firstKey = RSA.Create(2048);
        google.RunnerKeys["key-1"] = firstKey;
        var keyFile = WriteKeyFile(h, google, firstKey, "key-1");

        await h.StartGatehouseAsync(Hcl(h, google), configureServices: Environment(h, ("GOOGLE_APPLICATION_CREDENTIALS", keyFile)));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var grant = Assert.Single(google.Grants);
        Assert.Equal(("key-1", Runner, "https://www.googleapis.com/auth/cloud-platform"), (grant.KeyId, grant.Issuer, grant.Scope));
        var signed = Assert.Single(google.Signed);
        Assert.Equal($"/v1/projects/-/serviceAccounts/{Target}:signJwt", signed.Path);
        // Vault Agent's claims: aud http://vault/<role>, sub the service account, exp now + 15 minutes.
        Assert.Equal("http://vault/app", signed.Payload["aud"]!.ToString());
        Assert.Equal(Target, signed.Payload["sub"]!.ToString());
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(15).ToUnixTimeSeconds(), signed.Payload["exp"]!.GetValue<long>());
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first });
        Assert.Equal(Target, self!["data"]!["meta"]!["service_account_email"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        // Renewal: renew-self; Google is not asked again.
        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Single(google.Signed);

        // The key is rotated (the old one is revoked at Google), then Vault revokes the token: the next login reads the
        // key file afresh and signs with the new key.
        using var secondKey = RSA.Create(2048);
        google.RunnerKeys.Clear();
        google.RunnerKeys["key-2"] = secondKey;
        WriteKeyFile(h, google, secondKey, "key-2");
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal("key-2", google.Grants[^1].KeyId);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        foreach (var secret in google.Secrets)
        {
            Assert.DoesNotContain(secret, h.ConsoleLog, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Iam_CredentialsFromTheGceMetadataServer_WithJwtExp_AndARoleThatAllowsLessIsRefusedWithVaultsMessage()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google, maxJwtExp: "10m");

        await h.StartGatehouseAsync(Hcl(h, google, "jwt_exp = 30"), configureServices: Environment(h, ("GCE_METADATA_HOST", google.Host)));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("role requires that service account JWTs expire within 600 seconds");
        Assert.Equal(1, google.MetadataTokenRequests);
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds(), Assert.Single(google.Signed).Payload["exp"]!.GetValue<long>());
    }

    [Fact]
    public async Task Iam_CredentialsFromTheGceMetadataServer_LogIn()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google);

        await h.StartGatehouseAsync(Hcl(h, google, "jwt_exp = 5"), configureServices: Environment(h, ("GCE_METADATA_HOST", google.Host)));

        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(1, google.MetadataTokenRequests);
        Assert.Empty(google.Grants);
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(), Assert.Single(google.Signed).Payload["exp"]!.GetValue<long>());
    }

    [Fact]
    public async Task Iam_SignJwtDenied_BacksOffWithGooglesMessage_ThenLogsInWhenAllowed()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google);
        using var key = RSA.Create(2048);
        google.RunnerKeys["key-1"] = key;
        var keyFile = WriteKeyFile(h, google, key, "key-1");
        google.DenySigning = true;

        await h.StartGatehouseAsync(Hcl(h, google), configureServices: Environment(h, ("GOOGLE_APPLICATION_CREDENTIALS", keyFile)));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"unable to sign JWT for projects/-/serviceAccounts/{Target} using given Vault credentials: " +
            "googleapi: Error 403: Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist)., forbidden");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        google.DenySigning = false;
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Iam_KeyUnknownToGoogle_BacksOffNamingTheTokenRequestAndTheKeyFile()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google);
        using var key = RSA.Create(2048);
        var keyFile = WriteKeyFile(h, google, key, "key-1");

        await h.StartGatehouseAsync(Hcl(h, google), configureServices: Environment(h, ("GOOGLE_APPLICATION_CREDENTIALS", keyFile)));

        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync($"cannot fetch an access token (service account {Runner} from GOOGLE_APPLICATION_CREDENTIALS {keyFile}): " +
            "HTTP 400: invalid_grant: Invalid JWT Signature.");
        Assert.Empty(google.Signed);
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.DoesNotContain(key.ExportPkcs8PrivateKeyPem().Split('\n')[1], h.ConsoleLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Iam_CredentialsKeyWithoutAPrivateKey_BacksOffNamingTheKey_WithoutAskingGoogle()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        await SetUpGcpAsync(h, google);
        var services = Environment(h);

        await h.StartGatehouseAsync(Hcl(h, google, """credentials = "{\"type\": \"service_account\"}" """), configureServices: services);

        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("could not obtain credentials: the credentials key is a service account key without client_email or private_key");
        Assert.Equal(0, google.RequestCount);
    }

    /// <summary>
    /// Through the real executable (the shipped Native AOT binary under scripts/test-published.sh): the service-account
    /// JWT-bearer grant and the GCE metadata server's token (both answers read with JsonNode), from the process
    /// environment.
    /// </summary>
    [Theory]
    [Trait("Executable", "true")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS")]
    [InlineData("GCE_METADATA_HOST")]
    public async Task Executable_Iam_LogsInWithCredentialsFrom(string variable)
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var google = await GoogleEmulator.StartAsync(h.Time);
        // The process's clock runs on from the harness's (fixed) one: the JWT's exp is a little more than 15 minutes ahead.
        await SetUpGcpAsync(h, google, maxJwtExp: "20m");
        using var key = RSA.Create(2048);
        google.RunnerKeys["key-1"] = key;
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Directory.CreateDirectory(h.PathOf("home")).FullName,
            [variable] = variable == "GCE_METADATA_HOST" ? google.Host : WriteKeyFile(h, google, key, "key-1"),
        };
        await File.WriteAllTextAsync(h.ConfigPath, Hcl(h, google));

        await using var gatehouse = GatehouseProcess.Start(["proxy", $"-config={h.ConfigPath}", "-log-level=debug"], environment, "GOOGLE_", "GCE_");
        await gatehouse.WaitForAsync("sink: token (accessor ");

        var token = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token });
        Assert.Equal(Target, self!["data"]!["meta"]!["service_account_email"]!.ToString());
        Assert.Equal(variable == "GCE_METADATA_HOST" ? 0 : 1, google.Grants.Count);
        Assert.Equal(variable == "GCE_METADATA_HOST" ? 1 : 0, google.MetadataTokenRequests);
        Assert.Single(google.Signed);
        foreach (var secret in google.Secrets)
        {
            Assert.DoesNotContain(secret, gatehouse.Output.ToString(), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A loopback stand-in for Google: the OAuth token endpoint (JWT-bearer grants, RS256, verified with the runner's
    /// keys by <c>kid</c>, <c>aud</c> = the key file's <c>token_uri</c> as Go's jwt config sends it (a real key file's is
    /// Google's token URL, which Google requires), expiry by the fake clock), the GCE metadata token endpoint, and the IAM
    /// Credentials <c>signJwt</c> of the target service account (bearer token must be one it issued; signs RS256 with
    /// the target's key).
    /// </summary>
    private sealed class GoogleEmulator : IAsyncDisposable
    {
        public const string TargetKeyId = "target-key-1";

        private readonly TestUpstream _upstream;
        private readonly RSA _targetKey = RSA.Create(2048);
        private readonly TimeProvider _time;
        private readonly Recorded<Grant> _grants = new();
        private readonly Recorded<SignRequest> _signed = new();
        private readonly List<string> _secrets = [];
        private readonly HashSet<string> _issued = [];
        private int _metadataTokens;

        private GoogleEmulator(TestUpstream upstream, TimeProvider time)
        {
            _upstream = upstream;
            _time = time;
            upstream.Handler = HandleAsync;
        }

        public sealed record Grant(string KeyId, string Issuer, string Scope);

        public sealed record SignRequest(string Path, JsonObject Payload);

        public string Address => _upstream.Address;

        public string Host => $"127.0.0.1:{_upstream.Port}";

        public int RequestCount => _upstream.RequestCount;

        public string TargetPublicKeyPem => _targetKey.ExportSubjectPublicKeyInfoPem();

        /// <summary>The runner's valid keys by key id (what Google would accept in a JWT-bearer grant).</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, RSA> RunnerKeys { get; } = new();

        public volatile bool DenySigning;

        public int MetadataTokenRequests => Volatile.Read(ref _metadataTokens);

        public IReadOnlyList<Grant> Grants => _grants.Snapshot();

        public IReadOnlyList<SignRequest> Signed => _signed.Snapshot();

        /// <summary>Every access token and signature it handed out.</summary>
        public IReadOnlyList<string> Secrets
        {
            get
            {
                lock (_secrets)
                {
                    return [.. _secrets];
                }
            }
        }

        public static async Task<GoogleEmulator> StartAsync(TimeProvider time) => new(await TestUpstream.StartAsync(), time);

        private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        private static byte[] FromB64(string s)
        {
            s = s.Replace('-', '+').Replace('_', '/');
            return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
        }

        private string NewAccessToken()
        {
            var token = "ya29." + B64(RandomNumberGenerator.GetBytes(24));
            lock (_secrets)
            {
                _issued.Add(token);
                _secrets.Add(token);
            }

            return token;
        }

        private async Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value!;
            if (path == "/token" && context.Request.Method == "POST")
            {
                await TokenAsync(context);
            }
            else if (path == "/computeMetadata/v1/instance/service-accounts/default/token")
            {
                if (context.Request.Headers["Metadata-Flavor"] != "Google")
                {
                    context.Response.StatusCode = 403;
                    return;
                }

                if (context.Request.Query["scopes"] != "https://www.googleapis.com/auth/cloud-platform")
                {
                    context.Response.StatusCode = 400;
                    return;
                }

                Interlocked.Increment(ref _metadataTokens);
                await context.Response.WriteAsJsonAsync(new { access_token = NewAccessToken(), expires_in = 3599, token_type = "Bearer" });
            }
            else if (path.StartsWith("/v1/projects/-/serviceAccounts/", StringComparison.Ordinal) && path.EndsWith(":signJwt", StringComparison.Ordinal))
            {
                await SignJwtAsync(context, path);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        }

        private async Task TokenAsync(HttpContext context)
        {
            var form = await context.Request.ReadFormAsync();
            async Task RefuseAsync(string error, string description)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new { error, error_description = description });
            }

            if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
            {
                await RefuseAsync("unsupported_grant_type", "Invalid grant_type.");
                return;
            }

            var parts = form["assertion"].ToString().Split('.');
            var header = JsonNode.Parse(FromB64(parts[0]))!.AsObject();
            var claims = JsonNode.Parse(FromB64(parts[1]))!.AsObject();
            var kid = header["kid"]?.ToString() ?? "";
            var signedPart = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            if (header["alg"]?.ToString() != "RS256" || !RunnerKeys.TryGetValue(kid, out var key)
                || !key.VerifyData(signedPart, FromB64(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                await RefuseAsync("invalid_grant", "Invalid JWT Signature.");
                return;
            }

            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            if (claims["aud"]?.ToString() != Address + "/token" || claims["exp"]!.GetValue<long>() < now || claims["iat"]!.GetValue<long>() > now + 60
                || claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>() > 3600)
            {
                await RefuseAsync("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
                return;
            }

            _grants.Add(new Grant(kid, claims["iss"]?.ToString() ?? "", claims["scope"]?.ToString() ?? ""));

            await context.Response.WriteAsJsonAsync(new { access_token = NewAccessToken(), expires_in = 3599, token_type = "Bearer" });
        }

        private async Task SignJwtAsync(HttpContext context, string path)
        {
            var bearer = context.Request.Headers.Authorization.ToString();
            bool known;
            lock (_secrets)
            {
                known = bearer.StartsWith("Bearer ", StringComparison.Ordinal) && _issued.Contains(bearer["Bearer ".Length..]);
            }

            if (!known)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = new { code = 401, message = "Request had invalid authentication credentials.", status = "UNAUTHENTICATED" } });
                return;
            }

            var account = path["/v1/projects/-/serviceAccounts/".Length..^":signJwt".Length];
            if (DenySigning || account != Target)
            {
                context.Response.StatusCode = 403;
                await context.Response.WriteAsJsonAsync(new
                {
                    error = new
                    {
                        code = 403,
                        message = "Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist).",
                        errors = new[] { new { message = "denied", domain = "global", reason = "forbidden" } },
                        status = "PERMISSION_DENIED",
                    },
                });
                return;
            }

            var body = await JsonNode.ParseAsync(context.Request.Body);
            var payload = JsonNode.Parse(body!["payload"]!.ToString())!.AsObject();
            _signed.Add(new SignRequest(path, payload));

            var head = B64(Encoding.UTF8.GetBytes($"{{\"alg\":\"RS256\",\"kid\":\"{TargetKeyId}\",\"typ\":\"JWT\"}}"));
            var claims = B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
            var signature = B64(_targetKey.SignData(Encoding.ASCII.GetBytes(head + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            lock (_secrets)
            {
                _secrets.Add(signature);
            }

            await context.Response.WriteAsJsonAsync(new { keyId = TargetKeyId, signedJwt = head + "." + claims + "." + signature });
        }

        public async ValueTask DisposeAsync()
        {
            await _upstream.DisposeAsync();
            _targetKey.Dispose();
        }
    }
}
