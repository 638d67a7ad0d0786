using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// The <c>gcp</c> method's <c>type = "iam"</c> half, as Vault Agent does it: find Google credentials (the
/// <c>credentials</c> JSON, <c>GOOGLE_CREDENTIALS</c>, <c>GOOGLE_CLOUD_KEYFILE_JSON</c>, <c>~/.gcp/credentials</c>, then
/// Application Default Credentials: <c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's well-known file, the GCE metadata
/// server), get a cloud-platform access token with them (<see cref="GoogleAccessToken"/>), and have the IAM Credentials API sign
/// <c>{"aud":"http://vault/&lt;role&gt;","exp":…,"sub":&lt;service account&gt;}</c> for the service account
/// (<c>POST /v1/projects/-/serviceAccounts/&lt;sa&gt;:signJwt</c>). Credentials are looked up afresh at every login
/// (as Vault does), so a rotated key file is used at the next login. Neither the key, the access token nor the signed
/// JWT is ever put in a message.
/// </summary>
internal sealed class GcpIamSigner
{
    /// <summary>Google's IAM Credentials API; Gatehouse's own key <c>iam_credentials_endpoint</c> overrides it.</summary>
    public const string DefaultIamCredentialsEndpoint = "https://iamcredentials.googleapis.com";

    public const string CloudPlatformScope = GoogleAccessToken.CloudPlatformScope;

    /// <summary>Vault Agent's default <c>jwt_exp</c>, in minutes.</summary>
    public const int DefaultJwtExpMinutes = 15;

    private const string NoCredentials =
        "could not obtain credentials: google: could not find default credentials. See https://cloud.google.com/docs/authentication/external/set-up-adc for more information";

    private readonly string _role;
    private readonly string? _serviceAccount;
    private readonly string? _credentialsJson;
    private readonly int _jwtExpMinutes;
    private readonly string _endpoint;
    private readonly Func<string, string?> _environment;
    private readonly TimeProvider _time;
    private readonly HttpMessageInvoker _http;
    private readonly GoogleAccessToken _tokens;
    private readonly Func<Task<bool>> _onComputeEngine;

    /// <param name="serviceAccount">The configured account: null when the key is absent (Vault's <c>default</c>), empty to take the credentials' <c>client_email</c>.</param>
    /// <param name="onComputeEngine">Whether the GCE metadata server is there when <c>GCE_METADATA_HOST</c> is unset (Go's <c>metadata.OnGCE</c>, <see cref="GceProbe"/>).</param>
    public GcpIamSigner(string role, string? serviceAccount, string? credentialsJson, int jwtExpMinutes, string? endpoint,
        Func<string, string?> environment, TimeProvider time, HttpMessageInvoker http, Func<Task<bool>>? onComputeEngine = null)
    {
        _role = role;
        _serviceAccount = serviceAccount;
        _credentialsJson = string.IsNullOrEmpty(credentialsJson) ? null : credentialsJson;
        _jwtExpMinutes = jwtExpMinutes == 0 ? DefaultJwtExpMinutes : jwtExpMinutes;
        _endpoint = (string.IsNullOrWhiteSpace(endpoint) ? DefaultIamCredentialsEndpoint : endpoint.Trim()).TrimEnd('/');
        _environment = environment;
        _time = time;
        _http = http;
        _tokens = new GoogleAccessToken(http, time);
        _onComputeEngine = onComputeEngine ?? new GceProbe(http, time).IsOnComputeEngineAsync;
    }

    /// <summary>The JWT's claims, as Vault Agent marshals them (Go's map order: keys sorted).</summary>
    public string Payload(string serviceAccount) =>
        new JsonObject
        {
            ["aud"] = $"http://vault/{_role}",
            ["exp"] = _time.GetUtcNow().AddMinutes(_jwtExpMinutes).ToUnixTimeSeconds(),
            ["sub"] = serviceAccount,
        }.ToJsonString();

    /// <summary>The signJwt URL for <paramref name="serviceAccount"/>.</summary>
    public Uri SignJwtUri(string serviceAccount) =>
        new($"{_endpoint}/v1/projects/-/serviceAccounts/{Uri.EscapeDataString(serviceAccount).Replace("%40", "@", StringComparison.Ordinal)}:signJwt?alt=json&prettyPrint=false");

    /// <summary>Returns the signed JWT, or an error that is safe to log.</summary>
    public async Task<(string? Jwt, string? Error)> SignAsync(CancellationToken cancellationToken)
    {
        var found = await FindCredentialsAsync(cancellationToken).ConfigureAwait(false);
        if (found.Error is not null)
        {
            return (null, found.Error);
        }

        var serviceAccount = _serviceAccount ?? "default";
        if (serviceAccount.Length == 0)
        {
            serviceAccount = found.ClientEmail ?? "";
        }

        if (serviceAccount.Length == 0)
        {
            return (null, "could not obtain service account from credentials (possibly Application Default Credentials are being used); " +
                "a service account to authenticate as must be provided");
        }

        var resource = $"projects/-/serviceAccounts/{serviceAccount}";
        var failure = $"unable to sign JWT for {resource} using given Vault credentials";
        var token = found.Credentials is { } credentials
            ? await _tokens.FromCredentialsAsync(credentials, cancellationToken).ConfigureAwait(false)
            : await _tokens.FromMetadataServerAsync(found.MetadataHost!, cancellationToken).ConfigureAwait(false);
        if (token.Error is not null)
        {
            return (null, $"{failure}: cannot fetch an access token ({found.Source}): {token.Error}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, SignJwtUri(serviceAccount));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        request.Content = new StringContent(new JsonObject { ["payload"] = Payload(serviceAccount) }.ToJsonString(), Encoding.UTF8, "application/json");
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{failure}: {GoogleApiError((int)response.StatusCode, body)}");
            }

            var signed = JsonNode.Parse(body)?["signedJwt"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
            return signed.Length == 0 ? (null, $"{failure}: the IAM Credentials API answered without a signedJwt") : (signed, null);
        }
        catch (JsonException e)
        {
            return (null, $"{failure}: error parsing the signJwt response: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (null, $"{failure}: Post \"{_endpoint}/v1/{resource}:signJwt\": {e.Message}");
        }
    }

    /// <summary>Go's googleapi.Error text: <c>googleapi: Error 403: message, reason</c>.</summary>
    private static string GoogleApiError(int status, string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["error"] is JsonObject error)
            {
                var message = error["message"]?.ToString() ?? "";
                var reason = error["errors"] is JsonArray { Count: > 0 } errors ? errors[0]?["reason"]?.ToString() : null;
                return $"googleapi: Error {status}: {message}" + (reason is { Length: > 0 } ? $", {reason}" : "");
            }
        }
        catch (JsonException)
        {
        }

        return $"googleapi: got HTTP response code {status} with body: {body.Trim()}";
    }

    /// <summary>Credentials JSON, or the metadata server's host, or an error.</summary>
    private sealed record Found(JsonObject? Credentials, string? MetadataHost, string? ClientEmail, string Source, string? Error)
    {
        public static Found Failed(string? clientEmail, string source, string error) => new(null, null, clientEmail, source, error);
    }

    /// <summary>Vault's gcputil.FindCredentials, with the environment Gatehouse was given.</summary>
    private async Task<Found> FindCredentialsAsync(CancellationToken cancellationToken)
    {
        var home = _environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var (json, source) = _credentialsJson is not null ? (_credentialsJson, "the credentials key")
            : _environment("GOOGLE_CREDENTIALS") is { Length: > 0 } g ? (g, "GOOGLE_CREDENTIALS")
            : _environment("GOOGLE_CLOUD_KEYFILE_JSON") is { Length: > 0 } k ? (k, "GOOGLE_CLOUD_KEYFILE_JSON")
            : (TryRead(Path.Combine(home, ".gcp", "credentials")), "~/.gcp/credentials");
        if (!string.IsNullOrEmpty(json))
        {
            return FromJson(json, source);
        }

        // Application Default Credentials, in Google's order.
        if (_environment("GOOGLE_APPLICATION_CREDENTIALS") is { Length: > 0 } adcPath)
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(adcPath, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Found.Failed(null, "", "could not obtain credentials: google: error getting credentials using GOOGLE_APPLICATION_CREDENTIALS " +
                    $"environment variable: {e.Message}");
            }

            return FromJson(text, $"GOOGLE_APPLICATION_CREDENTIALS {adcPath}");
        }

        var wellKnown = Path.Combine(home, ".config", "gcloud", "application_default_credentials.json");
        if (TryRead(wellKnown) is { Length: > 0 } gcloud)
        {
            return FromJson(gcloud, wellKnown);
        }

        var metadataHost = _environment(GcpMethod.MetadataHostVariable);
        if (string.IsNullOrWhiteSpace(metadataHost) && !await _onComputeEngine().ConfigureAwait(false))
        {
            return Found.Failed(null, "", NoCredentials);
        }

        var host = string.IsNullOrWhiteSpace(metadataHost) ? "169.254.169.254" : metadataHost.Trim();
        return new Found(null, host, null, $"the GCE metadata server at {host}", null);
    }

    private static Found FromJson(string json, string source)
    {
        JsonObject credentials;
        try
        {
            if (JsonNode.Parse(json) is not JsonObject parsed)
            {
                return Found.Failed(null, source, $"could not obtain credentials: {source} is not a JSON object");
            }

            credentials = parsed;
        }
        catch (JsonException e)
        {
            // Vault would fall through to Application Default Credentials; a broken key file is reported instead.
            return Found.Failed(null, source, $"could not obtain credentials: {source} is not valid JSON ({e.Message})");
        }

        string? Text(string name) => credentials[name] is JsonValue v && v.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
        var (type, email) = (Text("type"), Text("client_email"));
        var serviceAccountKey = type is null or "service_account";
        if (serviceAccountKey && (email is null || Text("private_key") is null))
        {
            return Found.Failed(email, source, $"could not obtain credentials: {source} is a service account key without client_email or private_key");
        }

        return GoogleAccessToken.Problem(credentials) is { } problem
            ? Found.Failed(email, source, $"could not obtain credentials from {source}: {problem}")
            : new Found(credentials, null, email, serviceAccountKey ? $"service account {email} from {source}" : $"{type} credentials from {source}", null);
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
