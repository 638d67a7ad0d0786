using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>kerberos</c>: username, service, realm, keytab_path and krb5conf_path (all required, as Vault Agent/Proxy read
/// them), disable_fast_negotiation (default false). At every login it logs in to the KDC afresh with the keytab entry
/// for <c>username@realm</c> (the KDCs are krb5conf_path's), gets a service ticket for <c>service</c> and sends the
/// SPNEGO token as <c>Authorization: Negotiate &lt;base64&gt;</c> in <c>PUT &lt;mount_path&gt;/login</c> with an
/// empty body, as Vault Agent does with gokrb5. Gatehouse does it through the system's MIT GSSAPI
/// (<see cref="GssInitiator"/>). Neither a key, a ticket nor the token is ever logged.
/// </summary>
internal sealed class KerberosMethod : IAuthMethod
{
    private readonly string _mountPath;

    public KerberosMethod(MethodSettings settings, string mountPath)
    {
        _mountPath = mountPath;
        Username = settings.GetRequiredString("username");
        Service = settings.GetRequiredString("service");
        Realm = settings.GetRequiredString("realm");
        KeytabPath = settings.GetRequiredString("keytab_path");
        Krb5ConfPath = settings.GetRequiredString("krb5conf_path");
        DisableFastNegotiation = settings.GetBool("disable_fast_negotiation", defaultValue: false);
    }

    public string Type => "kerberos";

    public string Username { get; }

    public string Service { get; }

    public string Realm { get; }

    public string KeytabPath { get; }

    public string Krb5ConfPath { get; }

    /// <summary>
    /// Accepted as Vault reads it. MIT's client uses FAST only with an armour ticket, which a keytab login has not, so
    /// Gatehouse never negotiates FAST: the same as <c>true</c> (see docs/compatibility.md).
    /// </summary>
    public bool DisableFastNegotiation { get; }

    /// <summary>The client principal: <c>username@realm</c>, with <c>@</c> and <c>\</c> in the username escaped as krb5 names need.</summary>
    public string ClientPrincipal => $"{Username.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("@", "\\@", StringComparison.Ordinal)}@{Realm}";

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        // Vault's words first ("couldn't load keytab", "couldn't parse krb5Conf"), checked here so that a missing file
        // is named as such and not as whatever GSSAPI makes of it.
        if (Unreadable(KeytabPath) is { } keytabProblem)
        {
            return Task.FromResult(LoginRequest.Failed($"couldn't load keytab: {keytabProblem}"));
        }

        if (Unreadable(Krb5ConfPath) is { } confProblem)
        {
            return Task.FromResult(LoginRequest.Failed($"couldn't parse krb5Conf: {confProblem}"));
        }

        var (token, error) = GssInitiator.CreateToken(ClientPrincipal, Service, KeytabPath, Krb5ConfPath);
        if (token is null)
        {
            return Task.FromResult(LoginRequest.Failed($"couldn't log in to Kerberos: {error}"));
        }

        return Task.FromResult(LoginRequest.LoginWithHeaders(_mountPath,
            new Dictionary<string, string> { ["Authorization"] = "Negotiate " + Convert.ToBase64String(token) }));
    }

    private static string? Unreadable(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return $"{path} is a directory";
            }

            using var stream = File.OpenRead(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"open {path}: {e.Message}";
        }
    }
}
