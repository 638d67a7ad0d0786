using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>oci</c>, key for key as Vault Agent/Proxy: type (<c>apikey</c> or <c>instance</c>) and role (required), credential_poll_interval (a duration or whole seconds, default 60s).
/// <para>
/// At every login a <c>GET &lt;vault address&gt;/v1/&lt;mount_path&gt;/login/&lt;role&gt;</c> is signed (never sent) with
/// the API key as the OCI Go SDK signs it (<see cref="OciRequestSigner"/>), and its headers — <c>Date</c>,
/// <c>Authorization</c>, <c>Host</c> and the <c>(request-target)</c> pseudo-header, each a list of one value as Go's
/// <c>http.Header</c> — are sent as <c>{"request_headers": {…}}</c> to <c>PUT &lt;mount_path&gt;/login/&lt;role&gt;</c>.
/// Vault hands them to OCI's identity service, which checks the signature. With <c>type = "instance"</c> the GET is
/// signed with the session key of an instance-principal security token and keyId <c>ST$&lt;token&gt;</c>
/// (<see cref="OciInstancePrincipal"/>).
/// </para>
/// <para>
/// Every credential_poll_interval the key id (<c>tenancy/user/fingerprint</c>, or <c>ST$&lt;token&gt;</c> for instance
/// principals, whose token is renewed near its expiry) is read again; when it differs from the
/// last one the method says so on <see cref="NewCredentials"/> (the auth handler logs in again when
/// <c>enable_reauth_on_new_credentials</c> is set), as Vault Agent's <c>NewCreds()</c>. The private key, the
/// passphrase and the signature are never logged.
/// </para>
/// </summary>
internal sealed partial class OciMethod : IBackgroundAuthMethod, ICredentialWatchingAuthMethod
{
    /// <summary>Vault's <c>defaultCredCheckFreqSeconds</c>.</summary>
    public static readonly TimeSpan DefaultCredentialPollInterval = TimeSpan.FromSeconds(60);

    private readonly string _mountPath;
    private readonly string _role;
    private readonly OciApiKeyConfiguration _configuration;
    private readonly OciInstancePrincipal? _instance;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CredentialWatch<string> _watch = new(string.Equals);

    public OciMethod(MethodSettings settings, string mountPath, Func<string, string?> environment, TimeProvider time, ILogger logger,
        HttpMessageInvoker? http = null)
    {
        _mountPath = mountPath.Trim('/');
        _role = settings.GetRequiredString("role");
        AuthType = settings.GetRequiredString("type");
        CredentialPollInterval = settings.GetDuration("credential_poll_interval") ?? DefaultCredentialPollInterval;
        _configuration = new OciApiKeyConfiguration(environment);
        _instance = AuthType == "instance" ? new OciInstancePrincipal(environment, time, http) : null;
        _time = time;
        _logger = logger;
    }

    public string Type => "oci";

    /// <summary><c>apikey</c> or <c>instance</c>.</summary>
    public string AuthType { get; }

    public TimeSpan CredentialPollInterval { get; }

    public ChannelReader<bool> NewCredentials => _watch.Changed;

    /// <summary>Test hook: raised each time the credential poller's timer is armed.</summary>
    internal event Action? PollerWaiting;

    /// <summary>The path Vault Agent signs and logs in at: <c>&lt;mount_path&gt;/login/&lt;role&gt;</c>.</summary>
    public string LoginPath => $"{_mountPath}/login/{_role}";

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        if (_instance is not null)
        {
            var (session, error) = await _instance.SessionAsync(cancellationToken).ConfigureAwait(false);
            if (session is null)
            {
                return LoginRequest.Failed($"error signing authentication request: instance principal: {error}");
            }

            var securityKeyId = "ST$" + session.Token;
            _watch.Remember(securityKeyId);

            return Login(session.Key, securityKeyId, client.Address);
        }

        var (keyId, keyIdError) = await _configuration.KeyIdAsync(cancellationToken).ConfigureAwait(false);
        if (keyId is null)
        {
            return LoginRequest.Failed($"error signing authentication request: {keyIdError}");
        }

        var (key, keyError) = await _configuration.PrivateKeyAsync(cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return LoginRequest.Failed($"error signing authentication request: {keyError}");
        }

        _watch.Remember(keyId);

        using (key)
        {
            return Login(key, keyId, client.Address);
        }
    }

    private LoginRequest Login(System.Security.Cryptography.RSA key, string keyId, Uri vaultAddress)
    {
        var headers = SignedHeaders(key, keyId, vaultAddress, _time.GetUtcNow());
        var escaped = $"{_mountPath}/login/{Uri.EscapeDataString(_role)}";
        return LoginRequest.LoginAt(_mountPath, escaped, new JsonObject { ["request_headers"] = headers });
    }

    /// <summary>
    /// The headers of the signed GET as Vault Agent sends them: Go's <c>http.Header</c> (a list per name) with
    /// <c>Host</c> and <c>(request-target)</c> added after signing, names sorted as Go's JSON writes a map.
    /// </summary>
    internal JsonObject SignedHeaders(System.Security.Cryptography.RSA key, string keyId, Uri vaultAddress, DateTimeOffset now)
    {
        var path = $"/v1/{LoginPath}";
        var host = GoHost(vaultAddress);
        var (date, authorization) = OciRequestSigner.Sign(key, keyId, "GET", path, host, now);
        return new JsonObject
        {
            ["(request-target)"] = new JsonArray(OciRequestSigner.RequestTarget("get", path)),
            ["Authorization"] = new JsonArray(authorization),
            ["Date"] = new JsonArray(date),
            ["Host"] = new JsonArray(host),
        };
    }

    /// <summary>The credential poller.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        CredentialPoller.RunAsync(CredentialPollInterval, _time, () => PollerWaiting?.Invoke(), CheckCredentialsAsync, cancellationToken);

    /// <summary>One poll: read the key id; when it differs from the last one, keep it and say so.</summary>
    internal async Task CheckCredentialsAsync(CancellationToken cancellationToken)
    {
        var (keyId, error) = await CurrentKeyIdAsync(cancellationToken).ConfigureAwait(false);
        if (keyId is null)
        {
            Log.PollFailed(_logger, error!);
            return;
        }

        _watch.Observe(keyId, changed =>
        {
            if (_instance is null)
            {
                Log.NewCredentials(_logger, changed);
            }
            else
            {
                Log.NewSecurityToken(_logger);
            }
        });
    }

    /// <summary>
    /// The key id as Vault Agent's poller reads it (the SDK's <c>KeyID()</c>): <c>tenancy/user/fingerprint</c> for an
    /// API key; <c>ST$&lt;token&gt;</c> for instance principals, the token renewed when within 5 minutes of its expiry —
    /// so a renewed token counts as new credentials, as in Vault Agent.
    /// </summary>
    private async Task<(string? KeyId, string? Error)> CurrentKeyIdAsync(CancellationToken cancellationToken)
    {
        if (_instance is null)
        {
            return await _configuration.KeyIdAsync(cancellationToken).ConfigureAwait(false);
        }

        var (session, error) = await _instance.SessionAsync(cancellationToken).ConfigureAwait(false);
        return session is null ? (null, $"instance principal: {error}") : ("ST$" + session.Token, null);
    }

    /// <summary>Go's <c>url.Host</c> of the address as configured: host and port as written (a default port kept).</summary>
    internal static string GoHost(Uri address)
    {
        var text = address.OriginalString;
        var start = text.IndexOf("://", StringComparison.Ordinal);
        var rest = start >= 0 ? text[(start + 3)..] : text;
        var slash = rest.IndexOfAny(['/', '?', '#']);
        var host = slash >= 0 ? rest[..slash] : rest;
        var at = host.LastIndexOf('@');
        return at >= 0 ? host[(at + 1)..] : host;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.OciMethodPollFailed, Level = LogLevel.Warning, Message = "oci: unable to retrieve current creds, retaining last creds: {Error}")]
        public static partial void PollFailed(ILogger logger, string error);

        // The key id is tenancy/user/fingerprint: identifiers, not secrets.
        [LoggerMessage(EventId = LogEvents.OciMethodNewCredentials, Level = LogLevel.Information, Message = "oci: new credentials detected (key id {KeyId})")]
        public static partial void NewCredentials(ILogger logger, string keyId);

        // The security token is a credential: never logged.
        [LoggerMessage(EventId = LogEvents.OciMethodNewSecurityToken, Level = LogLevel.Information, Message = "oci: new credentials detected (instance principal security token renewed)")]
        public static partial void NewSecurityToken(ILogger logger);
    }
}
