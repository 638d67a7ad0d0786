using System.Collections.Immutable;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gatehouse.Configuration;
using Gatehouse.GoCompat;
using Gatehouse.Telemetry;

namespace Gatehouse.Vault;

/// <summary>
/// The small typed Vault client auto-auth, the sinks and the cache's renewals use: login, lookup-self, renew-self,
/// lease renew and the wrapping endpoints. Expected failures (Vault's error statuses, an unreachable Vault) come back
/// as <see cref="VaultError"/> values; only cancellation throws. It never retries: its callers (the auth loop, the
/// renewer) own retries and backoff.
/// </summary>
internal sealed class VaultClient : IDisposable
{
    /// <summary>A request that hangs longer than this is failed, so a stuck Vault cannot stall the auth loop.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private static readonly ProductInfoHeaderValue[] UserAgent =
        [new("Gatehouse", null), new ProductInfoHeaderValue("Auto-Auth", ProductInfo.Version)];

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _address;
    private readonly TimeProvider _time;
    private readonly TimeSpan _requestTimeout;
    private readonly VaultReachability? _reachability;

    /// <summary>True for a client made by <see cref="Create"/>, which owns its connection pool; a client given an
    /// invoker leaves it to its owner.</summary>
    private readonly bool _ownsInvoker;

    /// <param name="requestTimeout">How long one request may take on <paramref name="time"/>; null: <see cref="RequestTimeout"/>.</param>
    public VaultClient(
        HttpMessageInvoker invoker, Uri address, string? @namespace, TimeProvider time, VaultReachability? reachability = null, TimeSpan? requestTimeout = null)
        : this(invoker, address, @namespace, time, reachability, ownsInvoker: false)
    {
        _requestTimeout = requestTimeout ?? RequestTimeout;
    }

    private VaultClient(HttpMessageInvoker invoker, Uri address, string? @namespace, TimeProvider time, VaultReachability? reachability, bool ownsInvoker)
    {
        _requestTimeout = RequestTimeout;
        _invoker = invoker;
        _reachability = reachability;
        _ownsInvoker = ownsInvoker;
        _address = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
        _time = time;
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace.TrimEnd('/') + "/";
    }

    /// <summary>The namespace sent on every request (canonical, with a trailing slash), or null.</summary>
    public string? Namespace { get; }

    public Uri Address => _address;

    /// <summary>The auto-auth client: its own handler from the vault stanza, honouring disable_keep_alives/idle for auto-auth.</summary>
    public static VaultClient Create(GatehouseConfig config, string? @namespace, TimeProvider time, VaultReachability? reachability = null)
    {
        var handler = UpstreamHandlerFactory.Create(
            config.Vault,
            config.DisableKeepAlives.HasFlag(UpstreamClientSet.AutoAuth),
            config.DisableIdleConnections.HasFlag(UpstreamClientSet.AutoAuth));
        return new VaultClient(new HttpMessageInvoker(handler, disposeHandler: true), new Uri(config.Vault.EffectiveAddress),
            @namespace ?? config.Vault.Namespace, time, reachability, ownsInvoker: true);
    }

    /// <summary>Closes the connection pool when this client owns it.</summary>
    public void Dispose()
    {
        if (_ownsInvoker)
        {
            _invoker.Dispose();
        }
    }

    /// <summary>The reachability this client reports to (shared with the proxy), or null.</summary>
    public VaultReachability? Reachability => _reachability;

    /// <summary><c>PUT /v1/&lt;mount&gt;/login</c>. With <paramref name="wrapTtl"/> the response is wrapped.</summary>
    public Task<VaultResult> LoginAsync(string mountPath, IReadOnlyDictionary<string, string> body, TimeSpan? wrapTtl, CancellationToken cancellationToken) =>
        LoginAtAsync($"{mountPath.Trim('/')}/login", body, wrapTtl, cancellationToken);

    /// <summary>
    /// <c>PUT /v1/&lt;loginPath&gt;</c> (a path already escaped for the URL), for methods whose login path is not
    /// <c>&lt;mount&gt;/login</c>, with <paramref name="headers"/> added to the request (kerberos's <c>Authorization</c>).
    /// </summary>
    public Task<VaultResult> LoginAtAsync(string loginPath, IReadOnlyDictionary<string, string> body, TimeSpan? wrapTtl, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Put, loginPath.Trim('/'), token: null, JsonBody(body), wrapTtl, cancellationToken, headers: headers);

    /// <summary><c>PUT /v1/&lt;loginPath&gt;</c> with a JSON object body (values other than strings, such as oci's header lists).</summary>
    public Task<VaultResult> LoginAtAsync(string loginPath, System.Text.Json.Nodes.JsonObject body, TimeSpan? wrapTtl, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, loginPath.Trim('/'), token: null, body.ToJsonString(), wrapTtl, cancellationToken);

    /// <summary><c>GET /v1/auth/token/lookup-self</c>.</summary>
    public Task<VaultResult> LookupSelfAsync(string token, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "auth/token/lookup-self", token, body: null, wrapTtl: null, cancellationToken);

    /// <summary><c>PUT /v1/auth/token/renew-self</c> with <c>{"increment": seconds}</c> (0 asks for the role's default).</summary>
    public Task<VaultResult> RenewSelfAsync(string token, TimeSpan increment, CancellationToken cancellationToken) =>
        RenewSelfAsync(token, increment, @namespace: null, cancellationToken);

    /// <summary>
    /// <c>PUT /v1/auth/token/renew-self</c> in <paramref name="namespace"/> (null: this client's namespace), for a
    /// token made in a namespace other than the client's, such as a cached token.
    /// </summary>
    public Task<VaultResult> RenewSelfAsync(string token, TimeSpan increment, string? @namespace, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "auth/token/renew-self", token,
            $$"""{"increment":{{(long)increment.TotalSeconds}}}""", wrapTtl: null, cancellationToken, @namespace: @namespace);

    /// <summary>
    /// <c>PUT /v1/sys/leases/renew</c> with <c>{"lease_id": leaseId, "increment": seconds}</c>, authenticated by
    /// <paramref name="token"/>, in <paramref name="namespace"/> (null: this client's namespace).
    /// </summary>
    public Task<VaultResult> RenewLeaseAsync(string token, string leaseId, TimeSpan increment, string? @namespace, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "sys/leases/renew", token,
            $$"""{"lease_id":{{JsonString(leaseId)}},"increment":{{(long)increment.TotalSeconds}}}""", wrapTtl: null, cancellationToken, @namespace: @namespace);

    /// <summary><c>PUT /v1/sys/wrapping/wrap</c> with <c>{"token": token}</c>, authenticated by the token itself.</summary>
    public Task<VaultResult> WrapAsync(string token, TimeSpan ttl, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "sys/wrapping/wrap", token, JsonBody(new Dictionary<string, string> { ["token"] = token }), ttl, cancellationToken);

    /// <summary><c>PUT /v1/sys/wrapping/unwrap</c> authenticated by the wrapping token.</summary>
    public Task<VaultResult> UnwrapAsync(string wrappingToken, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "sys/wrapping/unwrap", wrappingToken, body: null, wrapTtl: null, cancellationToken);

    /// <summary><c>PUT /v1/sys/wrapping/lookup</c> with <c>{"token": wrappingToken}</c> (unauthenticated in Vault).</summary>
    public Task<VaultResult> WrappingLookupAsync(string wrappingToken, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "sys/wrapping/lookup", token: null,
            JsonBody(new Dictionary<string, string> { ["token"] = wrappingToken }), wrapTtl: null, cancellationToken);

    /// <summary>
    /// <c>GET /v1/sys/health?standbyok=true&amp;perfstandbyok=true</c>, unauthenticated and in no namespace: a success
    /// means a node that can take a login answers (a standby forwards it to the active node). Sealed, uninitialised
    /// and DR-secondary nodes answer an error status.
    /// </summary>
    public Task<VaultResult> HealthAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "sys/health?standbyok=true&perfstandbyok=true", token: null, body: null, wrapTtl: null, cancellationToken, rootNamespace: true);

    /// <summary>
    /// Any request, answered as Vault sent it: the status (0 when no answer came: Vault unreachable or too slow) and
    /// the body bytes. For callers that keep Vault's own answer (the static-secret cache) or read fields the typed
    /// results do not hold (<c>sys/capabilities-self</c>, KV metadata).
    /// </summary>
    public Task<VaultRawResponse> SendRawAsync(HttpMethod method, string path, string? token, string? jsonBody, string? @namespace, CancellationToken cancellationToken) =>
        ExchangeAsync(method, path, token, jsonBody, wrapTtl: null, rootNamespace: false, @namespace, cancellationToken);

    private async Task<VaultResult> SendAsync(
        HttpMethod method, string path, string? token, string? body, TimeSpan? wrapTtl, CancellationToken cancellationToken,
        bool rootNamespace = false, string? @namespace = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var answer = await ExchangeAsync(method, path, token, body, wrapTtl, rootNamespace, @namespace, cancellationToken, headers).ConfigureAwait(false);
        if (answer.Status == 0)
        {
            return VaultResult.Failure(new VaultError(0, [answer.TransportError ?? "no answer"]));
        }

        var bytes = answer.Body;
        var status = answer.Status;
        if (status is >= 200 and < 300)
        {
            if (bytes.Length == 0)
            {
                return VaultResult.Success(null);
            }

            try
            {
                using var document = JsonDocument.Parse(bytes);
                return VaultResult.Success(document.RootElement.ValueKind == JsonValueKind.Object
                    ? VaultSecret.Parse(document.RootElement)
                    : null);
            }
            catch (JsonException)
            {
                return VaultResult.Failure(new VaultError(status, ["the response body is not valid JSON"]));
            }
        }

        return VaultResult.Failure(new VaultError(status, ParseErrors(bytes)));
    }

    private async Task<VaultRawResponse> ExchangeAsync(
        HttpMethod method, string path, string? token, string? body, TimeSpan? wrapTtl, bool rootNamespace, string? @namespace,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_address, "v1/" + path));
        foreach (var (name, value) in headers ?? ImmutableDictionary<string, string>.Empty)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        foreach (var product in UserAgent)
        {
            request.Headers.UserAgent.Add(product);
        }

        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(VaultHeaders.Token, token);
        }

        request.Headers.TryAddWithoutValidation(VaultHeaders.Request, "true");
        if ((@namespace ?? Namespace) is { } ns && !rootNamespace)
        {
            request.Headers.TryAddWithoutValidation(VaultHeaders.Namespace, ns);
        }

        if (wrapTtl is { } ttl)
        {
            request.Headers.TryAddWithoutValidation(VaultHeaders.WrapTtl, FormatGoDuration(ttl));
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var timeout = new CancellationTokenSource(_requestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
            _reachability?.ReportSuccess();
            var bytes = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            return new VaultRawResponse((int)response.StatusCode, bytes, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _reachability?.ReportFailure();
            return new VaultRawResponse(0, [], $"no answer within {_requestTimeout.TotalSeconds:0}s");
        }
        catch (HttpRequestException e)
        {
            _reachability?.ReportFailure();
            return new VaultRawResponse(0, [], e.Message);
        }
        catch (IOException e)
        {
            return new VaultRawResponse(0, [], e.Message);
        }
    }

    private static string[] ParseErrors(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array)
            {
                return [.. errors.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())];
            }
        }
        catch (JsonException)
        {
            // Not Vault's error shape (a load balancer page, say): report the status alone.
        }

        return [];
    }

    private static string JsonString(string value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(value);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string JsonBody(IReadOnlyDictionary<string, string> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in body)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Go's <c>time.Duration.String</c> of the TTL rounded up to whole seconds (<c>5m0s</c>), as Vault's client sends it.</summary>
    internal static string FormatGoDuration(TimeSpan value) =>
        GoFormat.FormatDuration(TimeSpan.FromSeconds(Math.Max(0, Math.Ceiling(value.TotalSeconds))));
}
