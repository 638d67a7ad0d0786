using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>gcp</c> with <c>type = "gce"</c>: role (required), service_account (default <c>default</c>). Before each login
/// the instance identity JWT is fetched from the GCE metadata server —
/// <c>GET http://&lt;host&gt;/computeMetadata/v1/instance/service-accounts/&lt;service_account&gt;/identity?audience=&lt;vault address&gt;/vault/&lt;role&gt;&amp;format=full</c>
/// with <c>Metadata-Flavor: Google</c>, as Vault Agent asks for it — and sent as <c>{role, jwt}</c> to
/// <c>&lt;mount_path&gt;/login</c>. The host is Vault Agent's <c>metadata</c>, or <c>GCE_METADATA_HOST</c> when that
/// environment variable is set (Google's documented override). With <c>type = "iam"</c> the JWT is signed through
/// Google's IAM Credentials API instead (<see cref="GcpIamSigner"/>). The JWT is never logged.
/// </summary>
internal sealed class GcpMethod : IAuthMethod
{
    /// <summary>Google's documented override of the metadata server's host (and port).</summary>
    public const string MetadataHostVariable = "GCE_METADATA_HOST";

    /// <summary>The host Vault Agent's gcp method uses.</summary>
    public const string DefaultMetadataHost = "metadata";

    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(30);

    private readonly string _mountPath;
    private readonly string _role;
    private readonly string _serviceAccount;
    private readonly string _metadataHost;
    private readonly HttpMessageInvoker _http;
    private readonly TimeProvider _time;
    private readonly GcpIamSigner? _iam;

    public GcpMethod(MethodSettings settings, string mountPath, string? metadataHost, TimeProvider time, HttpMessageInvoker? http = null,
        Func<string, string?>? environment = null)
    {
        _mountPath = mountPath;
        _time = time;
        _role = settings.GetRequiredString("role");
        _serviceAccount = settings.GetString("service_account") ?? "default";
        _metadataHost = string.IsNullOrWhiteSpace(metadataHost) ? DefaultMetadataHost : metadataHost.Trim();
        _http = http ?? new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = FetchTimeout }, disposeHandler: true);
        if (settings.GetString("type") == "iam")
        {
            // Vault Agent: an absent service_account is "default"; one set to "" takes the credentials' client_email.
            var serviceAccount = settings.Map.Contains("service_account") ? settings.GetString("service_account") ?? "" : null;
            _iam = new GcpIamSigner(_role, serviceAccount, settings.GetString("credentials"), (int)(settings.GetInt64("jwt_exp") ?? 0),
                settings.GetString("iam_credentials_endpoint"), environment ?? (name => name == MetadataHostVariable ? metadataHost : null), time, _http);
        }
    }

    /// <summary>The iam half (null for <c>type = "gce"</c>).</summary>
    public GcpIamSigner? Iam => _iam;

    public string Type => "gcp";

    /// <summary>Where the identity token is asked for, for <paramref name="vaultAddress"/> (as the config spells it).</summary>
    public Uri IdentityUri(string vaultAddress)
    {
        var audience = $"{vaultAddress}/vault/{_role}";
        // Go's url.Values.Encode: keys sorted, query-escaped values.
        return new Uri($"http://{_metadataHost}/computeMetadata/v1/instance/service-accounts/{Uri.EscapeDataString(_serviceAccount)}/identity" +
            $"?audience={Uri.EscapeDataString(audience)}&format=full");
    }

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        if (_iam is not null)
        {
            return await PrepareIamLoginAsync(_iam, cancellationToken).ConfigureAwait(false);
        }

        var uri = IdentityUri(client.Address.OriginalString);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Add("Metadata-Flavor", "Google");
        using var deadline = new CancellationTokenSource(FetchTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Vault Agent would send the error body as the JWT; the metadata server's answer is safer to report here.
                return LoginRequest.Failed(
                    $"error fetching instance token from the metadata server at {_metadataHost}: HTTP {(int)response.StatusCode} for service account {_serviceAccount}");
            }

            var jwt = body.Trim();
            return jwt.Length == 0
                ? LoginRequest.Failed($"error fetching instance token from the metadata server at {_metadataHost}: empty response")
                : LoginRequest.Login(_mountPath, new Dictionary<string, string> { ["role"] = _role, ["jwt"] = jwt });
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return LoginRequest.Failed(
                $"error fetching instance token: the metadata server at {_metadataHost} did not answer within {(int)FetchTimeout.TotalSeconds} seconds");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return LoginRequest.Failed(
                $"error fetching instance token: the metadata server at {_metadataHost} is unreachable ({e.Message}); " +
                $"gce logins need the GCE metadata server (set {MetadataHostVariable} to point elsewhere)");
        }
    }

    private async Task<LoginRequest> PrepareIamLoginAsync(GcpIamSigner iam, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(FetchTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var (jwt, error) = await iam.SignAsync(timeout.Token).ConfigureAwait(false);
            return error is not null ? LoginRequest.Failed(error)
                : LoginRequest.Login(_mountPath, new Dictionary<string, string> { ["role"] = _role, ["jwt"] = jwt! });
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return LoginRequest.Failed(
                $"unable to sign JWT: Google's token or IAM Credentials service did not answer within {(int)FetchTimeout.TotalSeconds} seconds");
        }
    }
}
