using Gatehouse.Vault;

namespace Gatehouse.AutoAuth;

/// <summary>
/// One auto-auth method (approle, jwt, …). Before each login the auth loop asks it for the request to send; it reads
/// its credential files afresh every time, so rotated credentials are picked up without a restart. Expected problems
/// (a missing file, a refused unwrap) come back as <see cref="LoginRequest.Failed"/> with a message that names the
/// file or step and never the secret.
/// </summary>
internal interface IAuthMethod
{
    /// <summary>approle, token_file, jwt, kubernetes, cert, ldap, azure, gcp, aws, cf, kerberos or alicloud.</summary>
    string Type { get; }

    /// <param name="client">The auto-auth client (namespace applied, no token).</param>
    Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken);
}

/// <summary>
/// A method that also works between logins (jwt's and ldap's read period). The auth handler runs it beside its own loop.
/// </summary>
internal interface IBackgroundAuthMethod : IAuthMethod
{
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A method that watches its credentials between logins (aws's credential poller) and reports new ones, as Vault's
/// <c>NewCreds()</c> channel. With <c>enable_reauth_on_new_credentials</c> the auth handler logs in again on a report;
/// without it the new credentials are used from the next login on.
/// </summary>
internal interface ICredentialWatchingAuthMethod : IAuthMethod
{
    /// <summary>One item per change (at most one waits); read by the auth handler.</summary>
    System.Threading.Channels.ChannelReader<bool> NewCredentials { get; }
}

/// <summary>What the auth loop should do to get a token.</summary>
internal sealed record LoginRequest
{
    private LoginRequest()
    {
    }

    /// <summary>Set for a login: <c>PUT /v1/&lt;MountPath&gt;/login</c> with <see cref="Body"/>.</summary>
    public string? MountPath { get; private init; }

    /// <summary>Where the login goes: <c>&lt;MountPath&gt;/login</c>, or a method's own path (ldap's <c>login/&lt;username&gt;</c>).</summary>
    public string? LoginPath { get; private init; }

    public IReadOnlyDictionary<string, string>? Body { get; private init; }

    /// <summary>
    /// A body whose values are not all strings (oci's <c>{"request_headers": {"Date": ["…"], …}}</c>); when set it is
    /// sent instead of <see cref="Body"/>. Secret, as <see cref="Body"/>.
    /// </summary>
    public System.Text.Json.Nodes.JsonObject? JsonBody { get; private init; }

    /// <summary>Headers the login carries besides Vault's own (kerberos's <c>Authorization: Negotiate …</c>); secret.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; private init; }

    /// <summary>Set when the method already holds a token (token_file): adopt it after lookup-self.</summary>
    public string? ExistingToken { get; private init; }

    /// <summary>The client to log in with when the method needs its own (cert with its own TLS identity).</summary>
    public VaultClient? Client { get; private init; }

    /// <summary>Set when the method could not produce a request; the message is safe to log.</summary>
    public string? Error { get; private init; }

    public static LoginRequest Login(string mountPath, IReadOnlyDictionary<string, string> body, VaultClient? client = null) =>
        new() { MountPath = mountPath, LoginPath = $"{mountPath.Trim('/')}/login", Body = body, Client = client };

    /// <summary>A login at <paramref name="loginPath"/> (already escaped for the URL), such as <c>auth/ldap/login/alice</c>.</summary>
    public static LoginRequest LoginAt(string mountPath, string loginPath, IReadOnlyDictionary<string, string> body) =>
        new() { MountPath = mountPath, LoginPath = loginPath, Body = body };

    /// <summary>A login at <c>&lt;mountPath&gt;/login</c> with an empty body and <paramref name="headers"/>.</summary>
    public static LoginRequest LoginWithHeaders(string mountPath, IReadOnlyDictionary<string, string> headers) =>
        new() { MountPath = mountPath, LoginPath = $"{mountPath.Trim('/')}/login", Body = new Dictionary<string, string>(), Headers = headers };

    /// <summary>A login at <paramref name="loginPath"/> (already escaped for the URL) with a JSON object body.</summary>
    public static LoginRequest LoginAt(string mountPath, string loginPath, System.Text.Json.Nodes.JsonObject body) =>
        new() { MountPath = mountPath, LoginPath = loginPath, JsonBody = body };

    public static LoginRequest Adopt(string token) => new() { ExistingToken = token };

    public static LoginRequest Failed(string error) => new() { Error = error };

    // Bodies and tokens are secrets: a record's generated ToString would print them.
    public override string ToString() =>
        Error is not null ? $"LoginRequest {{ Error = {Error} }}" : $"LoginRequest {{ LoginPath = {LoginPath ?? "(adopt token)"} }}";
}
