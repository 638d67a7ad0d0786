using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>azure</c>: role and resource (required), object_id or client_id (at most one), as Vault Agent/Proxy. At every
/// login it reads the instance metadata (<c>GET /metadata/instance?api-version=2018-02-01</c>) and a managed-identity
/// token for <c>resource</c> (<c>GET /metadata/identity/oauth2/token?api-version=2018-02-01&amp;resource=…</c>), both
/// with <c>Metadata: true</c>, and logs in at <c>&lt;mount&gt;/login</c> with role, jwt, subscription_id,
/// resource_group_name, vm_name and vmss_name. The instance metadata service is called directly, as Vault does on
/// this path (Azure.Identity's ManagedIdentityCredential has no override for the instance-metadata endpoint that
/// Vault also reads). <c>imds_endpoint</c> is Gatehouse's own key (default <c>http://169.254.169.254</c>), for tests
/// and emulators. With <c>authenticate_from_environment = true</c> the token comes instead from the Azure SDK's
/// default chain for <c>scope</c> (default <c>&lt;resource&gt;/.default</c>), as Vault Agent does it
/// (<see cref="AzureEnvironmentCredential"/>); the instance metadata is still read. The token is never logged.
/// </summary>
internal sealed class AzureMethod : IAuthMethod
{
    /// <summary>The api-version Vault sends to both endpoints (the minimum with identity metadata).</summary>
    public const string ApiVersion = "2018-02-01";

    public const string DefaultImdsEndpoint = "http://169.254.169.254";

    // One connection pool for every login (as Vault's cleanhttp client per call, without the socket churn); the connect
    // timeout is cleanhttp's dialer timeout, so a black-holed 169.254.169.254 fails instead of hanging a login.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) });

    private readonly string _mountPath;
    private readonly string _role;
    private readonly string _resource;
    private readonly string? _objectId;
    private readonly string? _clientId;
    private readonly string _imds;
    private readonly bool _fromEnvironment;
    private readonly Func<string, string?> _environment;
    private readonly HttpPipelineTransport? _transport;

    public AzureMethod(MethodSettings settings, string mountPath, Func<string, string?>? environment = null, HttpPipelineTransport? transport = null)
    {
        _mountPath = mountPath;
        _role = settings.GetRequiredString("role");
        _resource = settings.GetRequiredString("resource");
        _objectId = settings.GetString("object_id");
        _clientId = settings.GetString("client_id");
        _imds = (settings.GetString("imds_endpoint") ?? DefaultImdsEndpoint).TrimEnd('/');
        // Vault Agent: scope defaults to "<resource>/.default" (a resource ending in "/" gives "//.default", which Entra ID takes).
        Scope = settings.GetString("scope") ?? $"{_resource}/.default";
        _fromEnvironment = settings.GetBool("authenticate_from_environment", false);
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _transport = transport;
    }

    /// <summary>The scope asked for with <c>authenticate_from_environment</c>.</summary>
    public string Scope { get; }

    public string Type => "azure";

    public string InstanceEndpoint => _imds + "/metadata/instance";

    public string IdentityEndpoint => _imds + "/metadata/identity/oauth2/token";

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var instance = await GetAsync(InstanceEndpoint, [], cancellationToken).ConfigureAwait(false);
        if (instance.Error is not null)
        {
            return LoginRequest.Failed(instance.Error);
        }

        string name, resourceGroup, subscription, scaleSet;
        try
        {
            using var doc = JsonDocument.Parse(instance.Body!);
            var compute = Property(doc.RootElement, "compute");
            name = StringProperty(compute, "name");
            resourceGroup = StringProperty(compute, "resourceGroupName");
            subscription = StringProperty(compute, "subscriptionId");
            scaleSet = StringProperty(compute, "vmScaleSetName");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return LoginRequest.Failed($"error parsing instance metadata response: {e.Message}");
        }

        if (_fromEnvironment)
        {
            var token = await TokenFromEnvironmentAsync(cancellationToken).ConfigureAwait(false);
            return token.Error is not null ? LoginRequest.Failed(token.Error) : Login(name, scaleSet, resourceGroup, subscription, token.Jwt!);
        }

        var query = new List<(string Key, string Value)> { ("resource", _resource) };
        if (_objectId is not null)
        {
            query.Add(("object_id", _objectId));
        }

        if (_clientId is not null)
        {
            query.Add(("client_id", _clientId));
        }

        var identity = await GetAsync(IdentityEndpoint, query, cancellationToken).ConfigureAwait(false);
        if (identity.Error is not null)
        {
            return LoginRequest.Failed(identity.Error);
        }

        string jwt;
        try
        {
            using var doc = JsonDocument.Parse(identity.Body!);
            jwt = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("access_token", out var t)
                && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        }
        catch (JsonException e)
        {
            return LoginRequest.Failed($"error parsing identity metadata response: {e.Message}");
        }

        return Login(name, scaleSet, resourceGroup, subscription, jwt);
    }

    private LoginRequest Login(string name, string scaleSet, string resourceGroup, string subscription, string jwt) =>
        LoginRequest.Login(_mountPath, new Dictionary<string, string>
        {
            ["role"] = _role,
            ["vm_name"] = name,
            ["vmss_name"] = scaleSet,
            ["resource_group_name"] = resourceGroup,
            ["subscription_id"] = subscription,
            ["jwt"] = jwt,
        });

    private async Task<(string? Jwt, string? Error)> TokenFromEnvironmentAsync(CancellationToken cancellationToken)
    {
        try
        {
            var credential = AzureEnvironmentCredential.Create(_environment, _transport);
            var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken).ConfigureAwait(false);
            return (token.Token, null);
        }
        catch (Exception e) when (e is AuthenticationFailedException or CredentialUnavailableException or ArgumentException or IOException
                                   or System.Security.Cryptography.CryptographicException)
        {
            // The SDK's messages name each credential tried and Entra ID's error; never a secret or assertion.
            // The SDK wraps the cause (MSAL's error with Entra ID's AADSTS code) in inner exceptions.
            var parts = new List<string>();
            for (Exception? x = e; x is not null; x = x.InnerException)
            {
                var text = string.Join(' ', x.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                if (text.Length > 0 && !parts.Any(p => p.Contains(text, StringComparison.Ordinal)))
                {
                    parts.Add(text);
                }
            }

            var message = string.Join(" ", parts);
            return (null, $"error getting a token from the environment (authenticate_from_environment) for scope {Scope}: {message}");
        }
    }

    private static async Task<(string? Body, string? Error)> GetAsync(string endpoint, List<(string Key, string Value)> query, CancellationToken cancellationToken)
    {
        // Go's url.Values.Encode: keys sorted, query-escaped.
        var pairs = query.Prepend<(string Key, string Value)>(("api-version", ApiVersion)).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint + "?" + string.Join('&', pairs));
        request.Headers.Add("Metadata", "true");
        try
        {
            using var response = await Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return response.StatusCode == System.Net.HttpStatusCode.OK
                ? (body, null)
                : (null, $"error response in metadata from {endpoint}: {body}");
        }
        catch (HttpRequestException e)
        {
            return (null, $"error fetching metadata from {endpoint}: {e.Message} (is this an Azure VM with a managed identity, and is the instance metadata service reachable?)");
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"error fetching metadata from {endpoint}: {e.Message}");
        }
    }

    // Go's encoding/json matches field names case-insensitively; so does this.
    private static JsonElement Property(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"expected a JSON object holding \"{name}\"");
        }

        foreach (var p in element.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return default;
    }

    private static string StringProperty(JsonElement element, string name)
    {
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return "";
        }

        var value = Property(element, name);
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Undefined or JsonValueKind.Null => "",
            _ => throw new InvalidOperationException($"json: cannot unmarshal {value.ValueKind} into \"{name}\" of type string"),
        };
    }
}
