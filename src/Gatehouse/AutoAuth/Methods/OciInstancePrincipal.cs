using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// oci's <c>type = "instance"</c>: instance principals as the OCI Go SDK v24 that Vault Agent imports makes them. From
/// the instance metadata service (<c>http://169.254.169.254/opc/v2</c>, header <c>Authorization: Bearer Oracle</c>) the
/// region (<c>instance/region</c>), the leaf certificate and its key (<c>identity/cert.pem</c>, <c>identity/key.pem</c>)
/// and the intermediate certificate (<c>identity/intermediate.pem</c>); the tenancy is the leaf's subject attribute
/// <c>opc-tenant:&lt;ocid&gt;</c>. A fresh RSA-2048 session key is made and <c>POST https://auth.&lt;region&gt;.&lt;domain&gt;/v1/x509</c>
/// sends <c>{"certificate", "publicKey", "intermediateCertificates"}</c> (PEM bodies without armour or newlines), signed
/// with the leaf key (headers <c>date (request-target) content-length content-type x-content-sha256</c>, keyId
/// <c>&lt;tenancy&gt;/fed-x509/&lt;SHA-1 of the leaf DER, colon-separated hex&gt;</c>); the answer's <c>token</c> (a JWT)
/// is the security token the login is signed with (<c>ST$&lt;token&gt;</c>, the session key). The token and session key
/// are kept until 5 minutes before the JWT's <c>exp</c>, as the SDK.
/// <para>
/// Overrides: <c>OCI_METADATA_BASE_URL</c> (newer SDKs' name; v24 reads none) and <c>OCI_SDK_AUTH_CLIENT_REGION_URL</c>
/// (v24 reads it: the federation endpoint's scheme and host, <c>/v1/x509</c> appended).
/// </para>
/// </summary>
internal sealed class OciInstancePrincipal(Func<string, string?> environment, TimeProvider time, HttpMessageInvoker? http = null)
{
    public const string DefaultMetadataBaseUrl = "http://169.254.169.254/opc/v2";

    /// <summary>Where the SDK v24 turns when <c>/opc/v2/instance/region</c> answers 404.</summary>
    public const string MetadataFallbackUrl = "http://169.254.169.254/opc/v1";
    public const string MetadataBaseUrlVariable = "OCI_METADATA_BASE_URL";
    public const string FederationUrlVariable = "OCI_SDK_AUTH_CLIENT_REGION_URL";

    /// <summary>The SDK's <c>bufferTimeBeforeTokenExpiration</c>.</summary>
    public static readonly TimeSpan ExpiryBuffer = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The headers the SDK's federation client signs (no <c>host</c>).</summary>
    public static readonly IReadOnlyList<string> FederationSignedHeaders = ["date", "(request-target)", "content-length", "content-type", "x-content-sha256"];

    private readonly HttpMessageInvoker _http = http ?? new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = RequestTimeout }, disposeHandler: true);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Session? _session;

    /// <summary>A security token and the session key it was issued for.</summary>
    public sealed record Session(string Token, RSA Key, DateTimeOffset Expires, string Tenancy);

    public string MetadataBaseUrl => (environment(MetadataBaseUrlVariable) is { Length: > 0 } url ? url : DefaultMetadataBaseUrl).TrimEnd('/');

    /// <summary>The cached session while it is valid, else a new one from the federation endpoint.</summary>
    public async Task<(Session? Session, string? Error)> SessionAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_session is { } current && current.Expires > time.GetUtcNow() + ExpiryBuffer)
            {
                return (current, null);
            }

            var (session, error) = await FederateAsync(cancellationToken).ConfigureAwait(false);
            if (session is not null)
            {
                _session = session;
            }

            return (session, error);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(Session?, string?)> FederateAsync(CancellationToken cancellationToken)
    {
        var metadata = MetadataBaseUrl;
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in new[] { "instance/region", "identity/cert.pem", "identity/key.pem", "identity/intermediate.pem" })
        {
            var (text, error) = await MetadataAsync($"{metadata}/{path}", cancellationToken).ConfigureAwait(false);
            if (text is null && path == "instance/region" && metadata == DefaultMetadataBaseUrl && error!.StartsWith("404 ", StringComparison.Ordinal))
            {
                // As the SDK: an instance without /opc/v2 is asked at /opc/v1.
                metadata = MetadataFallbackUrl;
                (text, error) = await MetadataAsync($"{metadata}/{path}", cancellationToken).ConfigureAwait(false);
            }

            if (text is null)
            {
                return (null, $"failed to get {path} from the instance metadata service at {metadata}: {error}");
            }

            texts[path] = text;
        }

        X509Certificate2 leaf;
        RSA leafKey;
        try
        {
            leaf = X509Certificate2.CreateFromPem(texts["identity/cert.pem"]);
            leafKey = RSA.Create();
            leafKey.ImportFromPem(texts["identity/key.pem"]);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return (null, "the instance metadata service's identity/cert.pem or identity/key.pem is not a PEM certificate and RSA key");
        }

        using (leaf)
        using (leafKey)
        {
            var tenancy = TenancyOf(leaf);
            if (tenancy is null)
            {
                return (null, "the leaf certificate from the instance metadata service names no tenancy (no opc-tenant: subject attribute)");
            }

            if (_session is { } previous && previous.Tenancy != tenancy)
            {
                return (null, $"unexpected update of tenancy OCID in the leaf certificate. Previous tenancy: {previous.Tenancy}, Updated: {tenancy}");
            }

            var sessionKey = RSA.Create(2048);
            var url = FederationUrl(texts["instance/region"].Trim());
            var (token, error) = await PostAsync(url, FederationBody(texts["identity/cert.pem"], sessionKey, texts["identity/intermediate.pem"]),
                leafKey, FederationKeyId(tenancy, leaf), cancellationToken).ConfigureAwait(false);
            if (token is null)
            {
                sessionKey.Dispose();
                return (null, $"failed to get a security token from {url}: {error}");
            }

            if (TokenExpiry(token) is not { } expires)
            {
                sessionKey.Dispose();
                return (null, $"the security token from {url} is not a JWT with an exp claim");
            }

            return (new Session(token, sessionKey, expires, tenancy), null);
        }
    }

    /// <summary>The SDK's <c>extractTenancyIDFromCertificate</c>: the first subject attribute starting <c>opc-tenant:</c>.</summary>
    public static string? TenancyOf(X509Certificate2 certificate)
    {
        foreach (var attribute in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (attribute.GetSingleElementValue() is { } value && value.StartsWith("opc-tenant:", StringComparison.Ordinal))
            {
                return value["opc-tenant:".Length..];
            }
        }

        return null;
    }

    /// <summary><c>&lt;tenancy&gt;/fed-x509/&lt;fingerprint&gt;</c>, the fingerprint SHA-1 of the DER in lower-case colon-separated hex (v24).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "OCI's fed-x509 key id names the certificate by its SHA-1 fingerprint (SDK v24); an identifier, not a signature")]
    public static string FederationKeyId(string tenancy, X509Certificate2 leaf) =>
        $"{tenancy}/fed-x509/{string.Join(':', SHA1.HashData(leaf.RawData).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)))}";

    /// <summary>The federation request's body as Go's encoding/json writes the SDK's struct (field order kept).</summary>
    public static string FederationBody(string leafPem, RSA sessionKey, string intermediatePem) =>
        new JsonObject
        {
            ["certificate"] = Sanitize(leafPem),
            ["publicKey"] = Sanitize(sessionKey.ExportSubjectPublicKeyInfoPem()),
            ["intermediateCertificates"] = new JsonArray(Sanitize(intermediatePem)),
        }.ToJsonString();

    /// <summary>The SDK's <c>sanitizeCertificateString</c>: PEM armour and newlines removed.</summary>
    public static string Sanitize(string pem) => pem
        .Replace("-----BEGIN CERTIFICATE-----", "", StringComparison.Ordinal).Replace("-----END CERTIFICATE-----", "", StringComparison.Ordinal)
        .Replace("-----BEGIN PUBLIC KEY-----", "", StringComparison.Ordinal).Replace("-----END PUBLIC KEY-----", "", StringComparison.Ordinal)
        .Replace("\n", "", StringComparison.Ordinal);

    /// <summary>The federation endpoint: <c>OCI_SDK_AUTH_CLIENT_REGION_URL</c> when set, else <c>https://auth.&lt;region&gt;.&lt;domain&gt;</c>; then <c>/v1/x509</c>.</summary>
    public Uri FederationUrl(string region)
    {
        var host = environment(FederationUrlVariable) is { } overridden ? overridden : $"auth.{OciRegions.Canonical(region)}.{OciRegions.Domain(region)}";
        if (!host.Contains("http", StringComparison.Ordinal))
        {
            host = "https://" + host;
        }

        return new Uri(host.TrimEnd('/') + "/v1/x509");
    }

    /// <summary>The JWT's <c>exp</c>, or null when the token is not a JWT with one.</summary>
    public static DateTimeOffset? TokenExpiry(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private async Task<(string?, string?)> MetadataAsync(string url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer Oracle");
        return await SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(string?, string?)> PostAsync(Uri url, string body, RSA leafKey, string keyId, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var date = OciRequestSigner.HttpDate(time.GetUtcNow());
        var headers = new List<KeyValuePair<string, string>>
        {
            new("date", date),
            new("(request-target)", OciRequestSigner.RequestTarget("post", url.PathAndQuery)),
            new("content-length", bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("content-type", "application/json"),
            new("x-content-sha256", Convert.ToBase64String(SHA256.HashData(bytes))),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Date", date);
        request.Headers.TryAddWithoutValidation("x-content-sha256", headers[4].Value);
        request.Headers.TryAddWithoutValidation("Authorization", OciRequestSigner.Authorization(leafKey, keyId, headers));
        var (text, error) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return (null, error);
        }

        try
        {
            return JsonNode.Parse(text)?["token"]?.GetValue<string>() is { Length: > 0 } token ? (token, null) : (null, "the answer has no token");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, "the answer is not JSON");
        }
    }

    private async Task<(string?, string?)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? (text, null) : (null, $"{(int)response.StatusCode} {response.ReasonPhrase}: {Shorten(text)}");
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}

/// <summary>OCI region names and realms as the Go SDK v24 knows them (<c>StringToRegion</c>, <c>secondLevelDomain</c>).</summary>
internal static class OciRegions
{
    private static readonly Dictionary<string, string> ShortNames = new(StringComparer.Ordinal)
    {
        ["phx"] = "us-phoenix-1", ["iad"] = "us-ashburn-1", ["fra"] = "eu-frankfurt-1", ["lhr"] = "uk-london-1",
        ["ams"] = "eu-amsterdam-1", ["zrh"] = "eu-zurich-1", ["mel"] = "ap-melbourne-1", ["bom"] = "ap-mumbai-1",
        ["hyd"] = "ap-hyderabad-1", ["icn"] = "ap-seoul-1", ["yny"] = "ap-chuncheon-1", ["nrt"] = "ap-tokyo-1",
        ["kix"] = "ap-osaka-1", ["nja"] = "ap-chiyoda-1", ["syd"] = "ap-sydney-1", ["yul"] = "ca-montreal-1",
        ["yyz"] = "ca-toronto-1", ["sjc"] = "us-sanjose-1", ["gru"] = "sa-saopaulo-1", ["jed"] = "me-jeddah-1",
        ["ltn"] = "uk-gov-london-1", ["brs"] = "uk-gov-cardiff-1",
    };

    private static readonly Dictionary<string, string> Realms = new(StringComparer.Ordinal)
    {
        ["us-langley-1"] = "oraclegovcloud.com", ["us-luke-1"] = "oraclegovcloud.com",
        ["us-gov-ashburn-1"] = "oraclegovcloud.com", ["us-gov-chicago-1"] = "oraclegovcloud.com", ["us-gov-phoenix-1"] = "oraclegovcloud.com",
        ["uk-gov-london-1"] = "oraclegovcloud.uk", ["uk-gov-cardiff-1"] = "oraclegovcloud.uk",
        ["ap-chiyoda-1"] = "oraclecloud8.com",
    };

    /// <summary>The region's name: a short name (<c>iad</c>) mapped to its long one, lower-cased.</summary>
    public static string Canonical(string region)
    {
        var lower = region.ToLowerInvariant();
        return ShortNames.TryGetValue(lower, out var full) ? full : lower;
    }

    /// <summary>The realm's domain; an unknown region falls back to oc1's <c>oraclecloud.com</c>, as the SDK.</summary>
    public static string Domain(string region) => Realms.GetValueOrDefault(Canonical(region), "oraclecloud.com");
}
