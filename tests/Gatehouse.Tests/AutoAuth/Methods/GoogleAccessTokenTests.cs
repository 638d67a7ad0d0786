using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Tests.TestSupport;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>
/// Each credential type's token requests as Go's golang.org/x/oauth2/google sends them (exact form fields, JSON bodies
/// and headers, the RS256 assertion verified with the public key), against a recording handler.
/// </summary>
public sealed class GoogleAccessTokenTests : IDisposable
{
    private const string Scope = "https://www.googleapis.com/auth/cloud-platform";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly RSA _key = RSA.Create(2048);
    private readonly string _directory = Directory.CreateTempSubdirectory("gatehouse-google-").FullName;

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static HttpResponseMessage Token(string token, int expiresIn = 3599) =>
        Json(new JsonObject { ["access_token"] = token, ["expires_in"] = expiresIn, ["token_type"] = "Bearer" }.ToJsonString());

    private static Dictionary<string, string> Form(string body) =>
        QueryHelpers.ParseQuery(body).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);

    private static byte[] FromBase64Url(string s) => System.Buffers.Text.Base64Url.DecodeFromChars(s);

    private async Task<GoogleAccessToken.Result> FetchAsync(RecordingHandler handler, JsonObject credentials)
    {
        Assert.Null(GoogleAccessToken.Problem(credentials));
        return await new GoogleAccessToken(new HttpMessageInvoker(handler), _time).FromCredentialsAsync(credentials, CancellationToken.None);
    }

    private JsonObject ServiceAccount(string? keyId = "key-1", string? tokenUri = "http://127.0.0.1:9/token", bool pkcs1 = false)
    {
        var json = new JsonObject
        {
            ["type"] = "service_account",
            ["client_email"] = "runner@p.iam.gserviceaccount.com",
            ["private_key"] = pkcs1 ? _key.ExportRSAPrivateKeyPem() : _key.ExportPkcs8PrivateKeyPem(),
        };
        if (keyId is not null)
        {
            json["private_key_id"] = keyId;
        }

        if (tokenUri is not null)
        {
            json["token_uri"] = tokenUri;
        }

        return json;
    }

    [Fact]
    public async Task ServiceAccount_PostsAJwtBearerGrantToTokenUri_Rs256SignedWithTheKey_ClaimsOnTheInjectedClock()
    {
        var handler = new RecordingHandler((_, _) => Token("ya29.sa"));

        var result = await FetchAsync(handler, ServiceAccount());

        Assert.Equal(new GoogleAccessToken.Result("ya29.sa", null), result);
        var (request, body) = Assert.Single(handler.Seen);
        Assert.Equal((HttpMethod.Post, "http://127.0.0.1:9/token"), (request.Method, request.RequestUri!.OriginalString));
        Assert.Equal("application/x-www-form-urlencoded", request.Content!.Headers.ContentType!.MediaType);
        var form = Form(body);
        Assert.Equal(new[] { "assertion", "grant_type" }, form.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", form["grant_type"]);
        var parts = form["assertion"].Split('.');
        Assert.Equal("""{"alg":"RS256","typ":"JWT","kid":"key-1"}""", Encoding.UTF8.GetString(FromBase64Url(parts[0])));
        // Go's jws: iat ten seconds back, exp an hour after iat; aud is the token URI.
        var iat = Now.ToUnixTimeSeconds() - 10;
        Assert.Equal($$"""{"iss":"runner@p.iam.gserviceaccount.com","scope":"{{Scope}}","aud":"http://127.0.0.1:9/token","exp":{{iat + 3600}},"iat":{{iat}}}""",
            Encoding.UTF8.GetString(FromBase64Url(parts[1])));
        Assert.True(_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task ServiceAccount_Pkcs1KeyWithoutKeyIdOrTokenUri_GoesToGooglesTokenUri_WithoutKid()
    {
        var handler = new RecordingHandler((_, _) => Token("ya29.sa"));

        var result = await FetchAsync(handler, ServiceAccount(keyId: null, tokenUri: null, pkcs1: true));

        Assert.Equal("ya29.sa", result.Token);
        var (request, body) = Assert.Single(handler.Seen);
        Assert.Equal("https://oauth2.googleapis.com/token", request.RequestUri!.OriginalString);
        var parts = Form(body)["assertion"].Split('.');
        Assert.Equal("""{"alg":"RS256","typ":"JWT"}""", Encoding.UTF8.GetString(FromBase64Url(parts[0])));
        Assert.Equal("https://oauth2.googleapis.com/token", JsonNode.Parse(FromBase64Url(parts[1]))!["aud"]!.ToString());
        Assert.True(_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task AuthorizedUser_IsARefreshGrant_WithTheClientInTheForm_AtGooglesTokenUri()
    {
        var handler = new RecordingHandler((_, _) => Token("ya29.user"));

        var result = await FetchAsync(handler, new JsonObject
        {
            ["type"] = "authorized_user",
            ["client_id"] = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
            ["client_secret"] = "d-FL95Q19q7MQmFpd7hHD0Ty",
            ["refresh_token"] = "1//refresh",
        });

        Assert.Equal("ya29.user", result.Token);
        var (request, body) = Assert.Single(handler.Seen);
        Assert.Equal("https://oauth2.googleapis.com/token", request.RequestUri!.OriginalString);
        Assert.Null(request.Headers.Authorization);
        Assert.Equal(new Dictionary<string, string>
        {
            ["client_id"] = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
            ["client_secret"] = "d-FL95Q19q7MQmFpd7hHD0Ty",
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = "1//refresh",
        }, Form(body));
    }

    [Fact]
    public async Task ImpersonatedServiceAccount_GetsTheSourceToken_ThenGenerateAccessTokenWithIt()
    {
        var handler = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath == "/token"
            ? Token("ya29.source")
            : Json("""{"accessToken":"ya29.impersonated","expireTime":"2027-01-15T01:00:00Z"}"""));

        var result = await FetchAsync(handler, new JsonObject
        {
            ["type"] = "impersonated_service_account",
            ["service_account_impersonation_url"] =
                "http://127.0.0.1:9/v1/projects/-/serviceAccounts/target@p.iam.gserviceaccount.com:generateAccessToken",
            ["delegates"] = new JsonArray("middle@p.iam.gserviceaccount.com"),
            ["source_credentials"] = ServiceAccount(),
        });

        Assert.Equal("ya29.impersonated", result.Token);
        Assert.Equal(2, handler.Seen.Count);
        var (request, body) = handler.Seen[1];
        Assert.Equal((HttpMethod.Post, "/v1/projects/-/serviceAccounts/target@p.iam.gserviceaccount.com:generateAccessToken"),
            (request.Method, request.RequestUri!.AbsolutePath));
        Assert.Equal("Bearer ya29.source", request.Headers.Authorization!.ToString());
        Assert.Equal("application/json", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal($$"""{"delegates":["middle@p.iam.gserviceaccount.com"],"lifetime":"3600s","scope":["{{Scope}}"]}""", body);
    }

    private JsonObject ExternalAccount(JsonObject credentialSource, params (string Key, JsonNode Value)[] extra)
    {
        var json = new JsonObject
        {
            ["type"] = "external_account",
            ["audience"] = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/oidc",
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
            ["token_url"] = "http://127.0.0.1:9/v1/token",
            ["credential_source"] = credentialSource,
        };
        foreach (var (key, value) in extra)
        {
            json[key] = value;
        }

        return json;
    }

    [Fact]
    public async Task ExternalAccount_JsonFileSource_StsExchangeWithBasicClient_ThenImpersonationWithTheConfiguredLifetime()
    {
        var file = Path.Combine(_directory, "subject.json");
        await File.WriteAllTextAsync(file, """  {"id_token": "eyJ.subject.token"}  """);
        var handler = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath == "/v1/token"
            ? Token("ya29.federated", 3600)
            : Json("""{"accessToken":"ya29.sa-from-federated","expireTime":"2027-01-15T01:00:00Z"}"""));

        var result = await FetchAsync(handler, ExternalAccount(
            new JsonObject { ["file"] = file, ["format"] = new JsonObject { ["type"] = "json", ["subject_token_field_name"] = "id_token" } },
            ("client_id", "client"), ("client_secret", "s3cret"), ("workforce_pool_user_project", "ignored-with-a-client"),
            ("service_account_impersonation_url", "http://127.0.0.1:9/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken"),
            ("service_account_impersonation", new JsonObject { ["token_lifetime_seconds"] = 600 })));

        Assert.Equal("ya29.sa-from-federated", result.Token);
        Assert.Equal(2, handler.Seen.Count);
        var (sts, form) = handler.Seen[0];
        Assert.Equal("http://127.0.0.1:9/v1/token", sts.RequestUri!.OriginalString);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client:s3cret")), sts.Headers.Authorization!.ToString());
        Assert.Equal(new Dictionary<string, string>
        {
            ["audience"] = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/oidc",
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["requested_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["scope"] = Scope,
            ["subject_token"] = "eyJ.subject.token",
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
        }, Form(form));
        var (impersonation, body) = handler.Seen[1];
        Assert.Equal("Bearer ya29.federated", impersonation.Headers.Authorization!.ToString());
        Assert.Equal($$"""{"lifetime":"600s","scope":["{{Scope}}"]}""", body);
    }

    [Fact]
    public async Task ExternalAccount_TextUrlSource_SendsItsHeaders_StsWithoutClientAuth_AndTheWorkforceProject()
    {
        var handler = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath == "/subject"
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("eyJ.url.token") }
            : Token("ya29.federated"));

        var result = await FetchAsync(handler, ExternalAccount(
            new JsonObject { ["url"] = "http://127.0.0.1:9/subject", ["headers"] = new JsonObject { ["Metadata"] = "True" } },
            ("workforce_pool_user_project", "my-project")));

        Assert.Equal("ya29.federated", result.Token);
        Assert.Equal(2, handler.Seen.Count);
        var (subject, _) = handler.Seen[0];
        Assert.Equal((HttpMethod.Get, "True"), (subject.Method, string.Join(",", subject.Headers.GetValues("Metadata"))));
        var (sts, form) = handler.Seen[1];
        Assert.Null(sts.Headers.Authorization);
        var fields = Form(form);
        Assert.Equal(("eyJ.url.token", """{"userProject":"my-project"}"""), (fields["subject_token"], fields["options"]));
    }

    [Fact]
    public async Task ExternalAccountAuthorizedUser_IsARefreshGrantAtTokenUrl_WithBasicClient()
    {
        var handler = new RecordingHandler((_, _) => Token("ya29.workforce"));

        var result = await FetchAsync(handler, new JsonObject
        {
            ["type"] = "external_account_authorized_user",
            ["audience"] = "//iam.googleapis.com/locations/global/workforcePools/pool/providers/provider",
            ["refresh_token"] = "refreshing",
            ["token_url"] = "http://127.0.0.1:9/v1/oauthtoken",
            ["client_id"] = "client",
            ["client_secret"] = "s3cret",
        });

        Assert.Equal("ya29.workforce", result.Token);
        var (request, body) = Assert.Single(handler.Seen);
        Assert.Equal("http://127.0.0.1:9/v1/oauthtoken", request.RequestUri!.OriginalString);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client:s3cret")), request.Headers.Authorization!.ToString());
        Assert.Equal(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = "refreshing" }, Form(body));
    }

    [Fact]
    public async Task MetadataServer_AsksForTheDefaultAccountsToken_WithTheFlavorHeader_AndTheScope()
    {
        var handler = new RecordingHandler((_, _) => Token("ya29.gce"));

        var result = await new GoogleAccessToken(new HttpMessageInvoker(handler), _time).FromMetadataServerAsync("127.0.0.1:9", CancellationToken.None);

        Assert.Equal("ya29.gce", result.Token);
        var (request, _) = Assert.Single(handler.Seen);
        Assert.Equal("http://127.0.0.1:9/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform",
            request.RequestUri!.OriginalString);
        Assert.Equal("Google", string.Join(",", request.Headers.GetValues("Metadata-Flavor")));
    }

    [Theory]
    [InlineData(400, """{"error":"invalid_grant","error_description":"Invalid JWT Signature."}""", "HTTP 400: invalid_grant: Invalid JWT Signature.")]
    [InlineData(401, """{"error":"unauthorized_client"}""", "HTTP 401: unauthorized_client")]
    [InlineData(403, """{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}""", "HTTP 403: PERMISSION_DENIED: Permission denied.")]
    [InlineData(502, "<html>Bad Gateway</html>\n", "HTTP 502: <html>Bad Gateway</html>")]
    [InlineData(200, """{"token_type":"Bearer"}""", "oauth2: server response missing access_token")]
    public async Task TokenEndpointAnswers_AreReportedWithStatusErrorAndDescription(int status, string body, string expected)
    {
        var handler = new RecordingHandler((_, _) => Json(body, (HttpStatusCode)status));

        var result = await FetchAsync(handler, ServiceAccount());

        Assert.Equal(GoogleAccessToken.Result.Failed(expected), result);
    }

    [Fact]
    public async Task LaterSteps_AreNamedInTheError_WhichNeverHoldsTheTokensSent()
    {
        var file = Path.Combine(_directory, "subject.txt");
        await File.WriteAllTextAsync(file, "eyJ.subject.token\n");
        var sts = new RecordingHandler((_, _) => Json("""{"error":"invalid_grant","error_description":"The audience is invalid."}""", HttpStatusCode.BadRequest));
        var impersonation = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath == "/v1/token"
            ? Token("ya29.federated")
            : Json("""{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied.","status":"PERMISSION_DENIED"}}""",
                HttpStatusCode.Forbidden));
        var credentials = ExternalAccount(new JsonObject { ["file"] = file },
            ("service_account_impersonation_url", "http://127.0.0.1:9/v1/projects/-/serviceAccounts/sa:generateAccessToken"));

        var stsFailure = await FetchAsync(sts, credentials);
        var impersonationFailure = await FetchAsync(impersonation, credentials);

        Assert.Equal("the security token service: HTTP 400: invalid_grant: The audience is invalid.", stsFailure.Error);
        Assert.Equal("eyJ.subject.token", Form(sts.Seen[0].Body)["subject_token"]);
        Assert.Equal("generateAccessToken: HTTP 403: PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied.", impersonationFailure.Error);
        Assert.DoesNotContain("eyJ", stsFailure.Error + impersonationFailure.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("ya29", impersonationFailure.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableTokenEndpoint_IsNamedWithoutItsQuery()
    {
        var handler = new RecordingHandler((_, _) => throw new HttpRequestException("Connection refused (127.0.0.1:9)"));

        var result = await new GoogleAccessToken(new HttpMessageInvoker(handler), _time).FromMetadataServerAsync("127.0.0.1:9", CancellationToken.None);

        Assert.Equal("GET \"http://127.0.0.1:9/computeMetadata/v1/instance/service-accounts/default/token\": Connection refused (127.0.0.1:9)", result.Error);
    }

    [Theory]
    [InlineData("""{"type":"external_account","audience":"a","subject_token_type":"t","credential_source":{"environment_id":"aws1","region_url":"http://169.254.169.254"}}""",
        "the external_account credential source \"aws1\" (AWS) is not supported by Gatehouse; use a file or url credential source, or a service account key")]
    [InlineData("""{"type":"external_account","audience":"a","subject_token_type":"t","credential_source":{"executable":{"command":"/bin/token"}}}""",
        "the external_account credential source \"executable\" is not supported by Gatehouse; use a file or url credential source")]
    [InlineData("""{"type":"external_account","audience":"a","subject_token_type":"t","credential_source":{"file":"/f","format":{"type":"xml"}}}""",
        "invalid credential_source file format type")]
    [InlineData("""{"type":"external_account","audience":"a","credential_source":{"file":"/f"}}""",
        "external_account credentials without audience or subject_token_type")]
    [InlineData("""{"type":"impersonated_service_account","source_credentials":{"type":"authorized_user"}}""",
        "missing 'source_credentials' field or 'service_account_impersonation_url' in credentials")]
    [InlineData("""{"type":"impersonated_service_account","service_account_impersonation_url":"http://x","source_credentials":{"type":"authorized_user"}}""",
        "source_credentials: authorized_user credentials without client_id or refresh_token")]
    [InlineData("""{"type":"impersonated_service_account","service_account_impersonation_url":"http://x","source_credentials":{"type":"impersonated_service_account","source_credentials":{}}}""",
        "source_credentials: missing 'source_credentials' field or 'service_account_impersonation_url' in credentials")]
    [InlineData("""{"type":"external_account_authorized_user","refresh_token":"r","token_url":"http://x","client_id":"c"}""",
        "The credentials do not contain the necessary fields need to refresh the access token. You must specify refresh_token, token_url, client_id, and client_secret.")]
    [InlineData("""{"type":"gdch_service_account"}""", "unknown credential type: \"gdch_service_account\"")]
    [InlineData("""{"client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}""",
        "CryptographicException: ")]
    public void Problem_NamesWhatCannotBeUsed_BeforeAnythingIsAsked(string json, string expected)
    {
        var problem = GoogleAccessToken.Problem(JsonNode.Parse(json)!.AsObject());

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }
}
