using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// A cloud-platform access token from Google credentials, as Go's golang.org/x/oauth2/google gets one for Vault Agent
/// (<c>CredentialsFromJSON</c>, <c>ComputeTokenSource</c>): one fetch per call, nothing cached. Credential types:
/// <c>service_account</c> (and JSON without <c>type</c>: an RS256 JWT-bearer grant at <c>token_uri</c>),
/// <c>authorized_user</c> (gcloud's refresh-token grant), <c>impersonated_service_account</c> (its source credentials,
/// then IAM Credentials <c>generateAccessToken</c>), <c>external_account</c> (workload identity federation: a subject
/// token from a <c>file</c> or <c>url</c>, the STS token exchange, then impersonation when configured),
/// <c>external_account_authorized_user</c> (refresh grant with basic client authentication), and the GCE metadata
/// server. Plain HTTP, RSA and JsonNode: the Native AOT binary cannot run Google's .NET auth library, which reads its
/// JSON by reflection (ARCHITECTURE.md, "What we write by hand"). An error is the detail after <c>cannot fetch an access token (&lt;source&gt;): </c>;
/// it never holds a key, a refresh token, a subject token or an access token.
/// </summary>
internal sealed class GoogleAccessToken(HttpMessageInvoker http, TimeProvider time)
{
    /// <summary>Go's <c>google.Endpoint.TokenURL</c> and <c>google.JWTTokenURL</c>.</summary>
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    /// <summary>An access token, or what went wrong (safe to log).</summary>
    public readonly record struct Result(string? Token, string? Error)
    {
        public static Result Failed(string error) => new(null, error);
    }

    /// <summary>
    /// What makes <paramref name="credentials"/> unusable before anything is asked (a missing field, an unreadable
    /// private key, a credential source Gatehouse does not implement), or null.
    /// </summary>
    public static string? Problem(JsonObject credentials)
    {
        switch (Text(credentials, "type"))
        {
            case null or "service_account":
                if (Text(credentials, "client_email") is null || Text(credentials, "private_key") is not { } pem)
                {
                    return "a service account key without client_email or private_key";
                }

                try
                {
                    using var key = RSA.Create();
                    key.ImportFromPem(pem);
                    return null;
                }
                catch (Exception e) when (e is ArgumentException or CryptographicException)
                {
                    return $"{e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}";
                }

            case "authorized_user":
                return Text(credentials, "refresh_token") is null || Text(credentials, "client_id") is null
                    ? "authorized_user credentials without client_id or refresh_token" : null;
            case "impersonated_service_account":
                if (Text(credentials, "service_account_impersonation_url") is null || credentials["source_credentials"] is not JsonObject source)
                {
                    return "missing 'source_credentials' field or 'service_account_impersonation_url' in credentials";
                }

                return Problem(source) is { } inner ? $"source_credentials: {inner}" : null;
            case "external_account":
                if (Text(credentials, "audience") is null || Text(credentials, "subject_token_type") is null)
                {
                    return "external_account credentials without audience or subject_token_type";
                }

                return credentials["credential_source"] is JsonObject credentialSource ? SubjectTokenSourceProblem(credentialSource)
                    : "external_account credentials without credential_source";
            case "external_account_authorized_user":
                return Text(credentials, "refresh_token") is null || Text(credentials, "token_url") is null
                       || Text(credentials, "client_id") is null || Text(credentials, "client_secret") is null
                    ? "The credentials do not contain the necessary fields need to refresh the access token. You must specify refresh_token, token_url, client_id, and client_secret."
                    : null;
            case var other:
                return $"unknown credential type: \"{other}\"";
        }
    }

    /// <summary>Go's externalaccount <c>Config.parse</c> order: aws, file, url, executable.</summary>
    private static string? SubjectTokenSourceProblem(JsonObject source)
    {
        if (Text(source, "environment_id") is { } environment && environment.StartsWith("aws", StringComparison.Ordinal))
        {
            return $"the external_account credential source \"{environment}\" (AWS) is not supported by Gatehouse; " +
                "use a file or url credential source, or a service account key";
        }

        if (Text(source, "file") is null && Text(source, "url") is null)
        {
            return source.ContainsKey("executable")
                ? "the external_account credential source \"executable\" is not supported by Gatehouse; use a file or url credential source"
                : "unable to parse credential source (Gatehouse reads file and url credential sources)";
        }

        return Text(source["format"] as JsonObject, "type") is null or "text" or "json" ? null : "invalid credential_source file format type";
    }

    /// <summary>Gets a token with <paramref name="credentials"/>, which <see cref="Problem"/> has found usable.</summary>
    public async Task<Result> FromCredentialsAsync(JsonObject credentials, CancellationToken cancellationToken)
    {
        switch (Text(credentials, "type"))
        {
            case "authorized_user":
                // Go's oauth2.Config with AuthStyleInParams: the client in the form.
                return await TokenGrantAsync(Text(credentials, "token_uri") ?? DefaultTokenUri, null,
                    [("client_id", Text(credentials, "client_id")!), ("client_secret", Text(credentials, "client_secret")),
                     ("grant_type", "refresh_token"), ("refresh_token", Text(credentials, "refresh_token")!)],
                    "", cancellationToken).ConfigureAwait(false);
            case "impersonated_service_account":
                var source = await FromCredentialsAsync((JsonObject)credentials["source_credentials"]!, cancellationToken).ConfigureAwait(false);
                return source.Error is not null ? Result.Failed($"source_credentials: {source.Error}")
                    : await GenerateAccessTokenAsync(Text(credentials, "service_account_impersonation_url")!, source.Token!,
                        Strings(credentials["delegates"]), 3600, cancellationToken).ConfigureAwait(false);
            case "external_account":
                return await ExternalAccountAsync(credentials, cancellationToken).ConfigureAwait(false);
            case "external_account_authorized_user":
                return await TokenGrantAsync(Text(credentials, "token_url")!,
                    BasicClient(Text(credentials, "client_id"), Text(credentials, "client_secret")),
                    [("grant_type", "refresh_token"), ("refresh_token", Text(credentials, "refresh_token")!)],
                    "", cancellationToken, rejectNegativeExpiry: true).ConfigureAwait(false);
            default:
                return await ServiceAccountAsync(credentials, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Go's <c>ComputeTokenSource("", scope)</c>: <c>GET http://&lt;host&gt;/computeMetadata/v1/instance/service-accounts/default/token?scopes=…</c>
    /// with <c>Metadata-Flavor: Google</c>.
    /// </summary>
    public async Task<Result> FromMetadataServerAsync(string host, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={Uri.EscapeDataString(CloudPlatformScope)}");
        request.Headers.Add("Metadata-Flavor", "Google");
        var (status, body, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (error is not null || status is < 200 or > 299)
        {
            return Result.Failed(error ?? HttpError(status, body));
        }

        return ReadToken(body, "access_token") is { } token && ReadLong(body, "expires_in") is not (null or 0)
            ? new Result(token, null)
            : Result.Failed("oauth2/google: incomplete token received from metadata");
    }

    /// <summary>
    /// Go's jwt.Config token source: an RS256 assertion (header alg, typ, kid; claims iss, scope, aud = the token URI,
    /// exp, iat, iat 10 seconds back for clock skew as Go's jws does) in a JWT-bearer grant at <c>token_uri</c>.
    /// </summary>
    private async Task<Result> ServiceAccountAsync(JsonObject credentials, CancellationToken cancellationToken)
    {
        var tokenUri = Text(credentials, "token_uri") ?? DefaultTokenUri;
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" };
        if (Text(credentials, "private_key_id") is { } keyId)
        {
            header["kid"] = keyId;
        }

        var issuedAt = time.GetUtcNow().AddSeconds(-10).ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Text(credentials, "client_email"),
            ["scope"] = CloudPlatformScope,
            ["aud"] = tokenUri,
            ["exp"] = issuedAt + 3600,
            ["iat"] = issuedAt,
        };
        var signingInput = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        byte[] signature;
        using (var key = RSA.Create())
        {
            key.ImportFromPem(Text(credentials, "private_key"));
            signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        return await TokenGrantAsync(tokenUri, null, [("assertion", $"{signingInput}.{Base64Url(signature)}"), ("grant_type", JwtBearerGrant)],
            "", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Go's externalaccount token source: the subject token, the STS token exchange at <c>token_url</c> (client as
    /// HTTP basic when both id and secret are set), then <c>generateAccessToken</c> when
    /// <c>service_account_impersonation_url</c> is set.
    /// </summary>
    private async Task<Result> ExternalAccountAsync(JsonObject credentials, CancellationToken cancellationToken)
    {
        var subject = await SubjectTokenAsync((JsonObject)credentials["credential_source"]!, cancellationToken).ConfigureAwait(false);
        if (subject.Error is not null)
        {
            return subject;
        }

        var tokenUrl = Text(credentials, "token_url")
            ?? $"https://sts.{Text(credentials, "universe_domain") ?? "googleapis.com"}/v1/token";
        var clientId = Text(credentials, "client_id");
        var form = new List<(string, string?)>
        {
            ("audience", Text(credentials, "audience")),
            ("grant_type", TokenExchangeGrant),
        };
        // Go sends workforce_pool_user_project only without client authentication (the client names the project).
        if (Text(credentials, "workforce_pool_user_project") is { } userProject && clientId is null)
        {
            form.Add(("options", new JsonObject { ["userProject"] = userProject }.ToJsonString()));
        }

        form.AddRange([("requested_token_type", AccessTokenType), ("scope", CloudPlatformScope),
            ("subject_token", subject.Token), ("subject_token_type", Text(credentials, "subject_token_type"))]);
        var exchanged = await TokenGrantAsync(tokenUrl, BasicClient(clientId, Text(credentials, "client_secret")), form,
            "the security token service: ", cancellationToken, rejectNegativeExpiry: true, requireExpiry: true).ConfigureAwait(false);
        if (exchanged.Error is not null || Text(credentials, "service_account_impersonation_url") is not { } impersonationUrl)
        {
            return exchanged;
        }

        var lifetime = Long((credentials["service_account_impersonation"] as JsonObject)?["token_lifetime_seconds"]) is { } seconds and not 0
            ? seconds : 3600;
        return await GenerateAccessTokenAsync(impersonationUrl, exchanged.Token!, [], lifetime, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Go's file and url credential sources: text (the whole content) or json (one string field).</summary>
    private async Task<Result> SubjectTokenAsync(JsonObject source, CancellationToken cancellationToken)
    {
        string content;
        if (Text(source, "file") is { } file)
        {
            try
            {
                content = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Result.Failed($"failed to open credential file \"{file}\"");
            }
        }
        else
        {
            var url = Text(source, "url")!;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (source["headers"] is JsonObject headers)
            {
                foreach (var (name, value) in headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value?.ToString());
                }
            }

            var (status, body, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (error is not null || status is < 200 or > 299)
            {
                return Result.Failed($"the subject token from {url}: {error ?? HttpError(status, body)}");
            }

            content = body;
        }

        if (source["format"] is not JsonObject format || Text(format, "type") is not "json")
        {
            return new Result(content, null);
        }

        var field = Text(format, "subject_token_field_name") ?? "";
        try
        {
            var value = JsonNode.Parse(content) is JsonObject json && json.TryGetPropertyValue(field, out var v) ? v
                : throw new KeyNotFoundException();
            return value is JsonValue text && text.TryGetValue<string>(out var token)
                ? new Result(token, null)
                : Result.Failed("improperly formatted subject token");
        }
        catch (JsonException)
        {
            return Result.Failed("failed to unmarshal the subject token as JSON");
        }
        catch (KeyNotFoundException)
        {
            return Result.Failed("provided subject_token_field_name not found in credentials");
        }
    }

    /// <summary>Go's ImpersonateTokenSource: <c>POST …:generateAccessToken</c> with the source token as bearer.</summary>
    private async Task<Result> GenerateAccessTokenAsync(string url, string sourceToken, IReadOnlyList<string> delegates, long lifetimeSeconds,
        CancellationToken cancellationToken)
    {
        // Go's generateAccessTokenReq: delegates (omitted when empty), lifetime, scope.
        var body = new JsonObject();
        if (delegates.Count > 0)
        {
            body["delegates"] = new JsonArray([.. delegates.Select(d => (JsonNode?)JsonValue.Create(d))]);
        }

        body["lifetime"] = $"{lifetimeSeconds}s";
        body["scope"] = new JsonArray(CloudPlatformScope);
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sourceToken);
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var (status, answer, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (error is not null || status is < 200 or > 299)
        {
            return Result.Failed($"generateAccessToken: {error ?? HttpError(status, answer)}");
        }

        return ReadToken(answer, "accessToken") is { } token ? new Result(token, null)
            : Result.Failed("generateAccessToken: the answer holds no accessToken");
    }

    /// <summary>An OAuth token request (form POST) and its <c>access_token</c>.</summary>
    private async Task<Result> TokenGrantAsync(string url, AuthenticationHeaderValue? client, IEnumerable<(string Name, string? Value)> form,
        string step, CancellationToken cancellationToken, bool rejectNegativeExpiry = false, bool requireExpiry = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = client;
        // Go's url.Values.Encode: keys sorted (the callers list them so), empty values kept, absent ones left out.
        request.Content = new FormUrlEncodedContent(form.Where(f => f.Value is not null).Select(f => KeyValuePair.Create(f.Name, f.Value!)));
        var (status, body, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (error is not null || status is < 200 or > 299)
        {
            return Result.Failed(step + (error ?? HttpError(status, body)));
        }

        var expiresIn = ReadLong(body, "expires_in");
        if ((rejectNegativeExpiry && expiresIn < 0) || (requireExpiry && expiresIn is null or <= 0))
        {
            return Result.Failed(step + "oauth2/google: got invalid expiry from security token service");
        }

        return ReadToken(body, "access_token") is { } token ? new Result(token, null)
            : Result.Failed(step + "oauth2: server response missing access_token");
    }

    private static AuthenticationHeaderValue? BasicClient(string? id, string? secret) =>
        string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret) ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));

    private async Task<(int Status, string Body, string? Error)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (0, "", $"{request.Method} \"{request.RequestUri!.GetLeftPart(UriPartial.Path)}\": {e.Message}");
        }
    }

    /// <summary>
    /// <c>HTTP &lt;status&gt;: &lt;error&gt;: &lt;error_description&gt;</c> for an OAuth error, the status and message of a
    /// Google API error, else the body (cut short).
    /// </summary>
    private static string HttpError(int status, string body)
    {
        try
        {
            var json = JsonNode.Parse(body) as JsonObject;
            switch (json?["error"])
            {
                case JsonValue error when error.TryGetValue<string>(out var code):
                    return Text(json, "error_description") is { } description ? $"HTTP {status}: {code}: {description}" : $"HTTP {status}: {code}";
                case JsonObject api:
                    return $"HTTP {status}: {Text(api, "status") ?? "error"}: {Text(api, "message")}";
            }
        }
        catch (JsonException)
        {
        }

        var text = body.Trim();
        return $"HTTP {status}: {(text.Length > 300 ? text[..300] + "…" : text)}";
    }

    private static string? ReadToken(string body, string name)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject json ? Text(json, name) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static long? ReadLong(string body, string name)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject json ? Long(json[name]) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An integer, however the node holds it, or null.</summary>
    private static long? Long(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), out var n) ? n : null;

    /// <summary>A non-empty string field, or null.</summary>
    private static string? Text(JsonObject? json, string name) =>
        json?[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? [.. array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>()] : [];

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
