using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The gcp method's metadata request, as Vault Agent's <c>auth/gcp</c> method (type gce) builds it.</summary>
public sealed class GcpMethodTests
{
    private static GcpMethod Method(string? metadataHost, params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("gce", default))
            .Add("role", new HclString("web role", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new GcpMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"gcp\""), "auth/gcp", metadataHost,
            new FakeTimeProvider());
    }

    [Fact]
    public void Gcp_IdentityUri_IsVaultAgentsMetadataHost_TheDefaultAccount_AndAnAudienceOfTheVaultAddressAndRole()
    {
        var uri = Method(metadataHost: null).IdentityUri("https://vault.example.com:8200");

        Assert.Equal(
            "http://metadata/computeMetadata/v1/instance/service-accounts/default/identity" +
            "?audience=https%3A%2F%2Fvault.example.com%3A8200%2Fvault%2Fweb%20role&format=full",
            uri.AbsoluteUri);
    }

    [Fact]
    public void Gcp_IdentityUri_HonoursGceMetadataHostAndServiceAccount()
    {
        var uri = Method("127.0.0.1:8989", ("service_account", "app@p.iam.gserviceaccount.com")).IdentityUri("http://127.0.0.1:8200");

        Assert.Equal("127.0.0.1:8989", uri.Authority);
        Assert.Equal("/computeMetadata/v1/instance/service-accounts/app@p.iam.gserviceaccount.com/identity", Uri.UnescapeDataString(uri.AbsolutePath));
    }

    private static AuthMethodConfig Config(string type) => new()
    {
        Type = "gcp",
        Config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString(type, default)).Add("role", new HclString("web", default)), default),
    };

    [Fact]
    public void Gcp_IsCreatedByTheFactory_WithTheHostFromTheGivenEnvironment()
    {
        var method = Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), Config("gce"), new FakeTimeProvider(),
            NullLoggerFactory.Instance, name => name == GcpMethod.MetadataHostVariable ? "169.254.169.254" : null));

        Assert.Equal("169.254.169.254", method.IdentityUri("http://v").Host);
    }

    private static AuthMethodConfig IamConfig(params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("iam", default)).Add("role", new HclString("web", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new AuthMethodConfig { Type = "gcp", Config = new ConfigMap(values, default) };
    }

    private static GcpIamSigner Iam(FakeTimeProvider time, Func<string, string?> environment, params (string Key, string Value)[] extra) =>
        Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), IamConfig(extra), time, NullLoggerFactory.Instance, environment)).Iam!;

    [Fact]
    public void GcpIam_Payload_IsVaultAgentsClaims_ExpiringFifteenMinutesFromTheInjectedNow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

        Assert.Equal("{\"aud\":\"http://vault/web\",\"exp\":1800000900,\"sub\":\"sa@p.iam.gserviceaccount.com\"}",
            Iam(time, _ => null).Payload("sa@p.iam.gserviceaccount.com"));
        Assert.Equal("{\"aud\":\"http://vault/web\",\"exp\":1800000300,\"sub\":\"x\"}", Iam(time, _ => null, ("jwt_exp", "5")).Payload("x"));
        Assert.Contains("\"exp\":1800000900", Iam(time, _ => null, ("jwt_exp", "0")).Payload("x"), StringComparison.Ordinal);
    }

    [Fact]
    public void GcpIam_SignJwtUri_IsGooglesIamCredentialsApi_OrTheGatehouseOverride()
    {
        var time = new FakeTimeProvider();

        Assert.Equal("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:signJwt?alt=json&prettyPrint=false",
            Iam(time, _ => null).SignJwtUri("sa@p.iam.gserviceaccount.com").OriginalString);
        Assert.StartsWith("http://127.0.0.1:9/v1/projects/-/serviceAccounts/",
            Iam(time, _ => null, ("iam_credentials_endpoint", "http://127.0.0.1:9/")).SignJwtUri("a").OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GcpIam_NoCredentialsAndNotOnGce_FailsWithGooglesMessage_WithoutNetwork()
    {
        using var home = new TempHome();
        var signer = new GcpIamSigner("web", null, null, 0, null, name => name == "HOME" ? home.Path : null, new FakeTimeProvider(),
            new HttpMessageInvoker(new SocketsHttpHandler()), onComputeEngine: () => Task.FromResult(false));

        var (jwt, error) = await signer.SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.StartsWith("could not obtain credentials: google: could not find default credentials.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GcpIam_EmptyServiceAccountWithMetadataCredentials_AsksForOne_AsVaultAgent()
    {
        using var home = new TempHome();
        var method = Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), IamConfig(("service_account", "")), new FakeTimeProvider(),
            NullLoggerFactory.Instance, name => name switch { "HOME" => home.Path, GcpMethod.MetadataHostVariable => "127.0.0.1:9", _ => null }));

        var (jwt, error) = await method.Iam!.SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.StartsWith("could not obtain service account from credentials", error, StringComparison.Ordinal);
    }

    private static GcpIamSigner Signer(TempHome home, string credentialsVariable, RecordingHandler handler) =>
        new("web", "target@p.iam.gserviceaccount.com", null, 0, "http://127.0.0.1:9",
            name => name switch { "HOME" => home.Path, "GOOGLE_CREDENTIALS" => credentialsVariable, _ => null }, new FakeTimeProvider(),
            new HttpMessageInvoker(handler), onComputeEngine: () => throw new InvalidOperationException("the probe must not run"));

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task GcpIam_ImpersonatedCredentials_SignWithTheImpersonatedToken()
    {
        using var home = new TempHome();
        using var key = RSA.Create(2048);
        var handler = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath switch
        {
            "/token" => Json("""{"access_token":"ya29.source","expires_in":3599}"""),
            var p when p.EndsWith(":generateAccessToken", StringComparison.Ordinal) => Json("""{"accessToken":"ya29.impersonated","expireTime":"2027-01-01T00:00:00Z"}"""),
            _ => Json("""{"keyId":"k","signedJwt":"header.claims.signature"}"""),
        });
        var credentials = new JsonObject
        {
            ["type"] = "impersonated_service_account",
            ["service_account_impersonation_url"] = "http://127.0.0.1:9/v1/projects/-/serviceAccounts/signer@p.iam.gserviceaccount.com:generateAccessToken",
            ["source_credentials"] = new JsonObject
            {
                ["type"] = "service_account",
                ["client_email"] = "runner@p.iam.gserviceaccount.com",
                ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
                ["token_uri"] = "http://127.0.0.1:9/token",
            },
        };

        var (jwt, error) = await Signer(home, credentials.ToJsonString(), handler).SignAsync(CancellationToken.None);

        Assert.Null(error);
        Assert.Equal("header.claims.signature", jwt);
        Assert.Equal(3, handler.Seen.Count);
        var (signJwt, _) = handler.Seen[2];
        Assert.Equal("/v1/projects/-/serviceAccounts/target@p.iam.gserviceaccount.com:signJwt", signJwt.RequestUri!.AbsolutePath);
        Assert.Equal("Bearer ya29.impersonated", signJwt.Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task GcpIam_TokenEndpointRefusal_NamesTheSourceStatusErrorAndDescription()
    {
        using var home = new TempHome();
        var handler = new RecordingHandler((_, _) => Json("""{"error":"invalid_grant","error_description":"Token has been expired or revoked."}""",
            HttpStatusCode.BadRequest));

        var (jwt, error) = await Signer(home, """{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//r"}""", handler)
            .SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.Equal("unable to sign JWT for projects/-/serviceAccounts/target@p.iam.gserviceaccount.com using given Vault credentials: " +
            "cannot fetch an access token (authorized_user credentials from GOOGLE_CREDENTIALS): HTTP 400: invalid_grant: Token has been expired or revoked.",
            error);
        Assert.Equal("https://oauth2.googleapis.com/token", Assert.Single(handler.Seen).Request.RequestUri!.OriginalString);
    }

    [Fact]
    public async Task GcpIam_ExternalAccountFromAws_IsRefusedNamingTheSource_WithoutAskingAnyone()
    {
        using var home = new TempHome();
        var handler = new RecordingHandler((_, _) => throw new InvalidOperationException("no request expected"));

        var (jwt, error) = await Signer(home,
            """{"type":"external_account","audience":"a","subject_token_type":"urn:ietf:params:aws:token-type:aws4_request","credential_source":{"environment_id":"aws1"}}""",
            handler).SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.Equal("could not obtain credentials from GOOGLE_CREDENTIALS: the external_account credential source \"aws1\" (AWS) is not supported " +
            "by Gatehouse; use a file or url credential source, or a service account key", error);
        Assert.Empty(handler.Seen);
    }

    private sealed class TempHome : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("gatehouse-gcp-home-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
