using System.Security.Cryptography;
using Gatehouse.Configuration;
using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>cert</c>: name, ca_cert, client_cert, client_key, reload. The TLS client certificate is the credential. When
/// the method names its own CA or certificate, it logs in through its own client (same address and namespace),
/// built once — or at every login with <c>reload = true</c>, so a renewed certificate is picked up. Otherwise it logs
/// in through the auto-auth client, which carries the vault stanza's identity.
/// </summary>
internal sealed class CertMethod : IAuthMethod
{
    private readonly string _mountPath;
    private readonly string? _name;
    private readonly string? _caCert;
    private readonly string? _clientCert;
    private readonly string? _clientKey;
    private readonly bool _reload;
    private readonly GatehouseConfig _config;
    private readonly TimeProvider _time;
    private VaultClient? _ownClient;

    public CertMethod(MethodSettings settings, string mountPath, GatehouseConfig config, TimeProvider time)
    {
        _mountPath = mountPath;
        _config = config;
        _time = time;
        _name = settings.GetString("name");
        _caCert = settings.GetString("ca_cert");
        _clientCert = settings.GetString("client_cert");
        _clientKey = settings.GetString("client_key");
        _reload = settings.GetBool("reload", defaultValue: false);
    }

    public string Type => "cert";

    /// <summary>True when the method brings its own TLS settings instead of the vault stanza's.</summary>
    public bool HasOwnTls => _caCert is not null || _clientCert is not null;

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, string>();
        if (_name is not null)
        {
            body["name"] = _name;
        }

        if (!HasOwnTls)
        {
            return Task.FromResult(LoginRequest.Login(_mountPath, body));
        }

        if (_ownClient is null || _reload)
        {
            try
            {
                var vault = _config.Vault with
                {
                    CaCert = _caCert ?? _config.Vault.CaCert,
                    CaPath = _caCert is null ? _config.Vault.CaPath : null,
                    ClientCert = _clientCert ?? _config.Vault.ClientCert,
                    ClientKey = _clientKey ?? _config.Vault.ClientKey,
                };
                var previous = _ownClient;
                _ownClient = VaultClient.Create(_config with { Vault = vault }, client.Namespace, _time, client.Reachability);

                // The auth loop is sequential: the previous client's last login has finished, so its pool can go.
                previous?.Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                // The previous client (if any) stays: with reload on, a half-written certificate must not stop logins.
                if (_ownClient is null)
                {
                    return Task.FromResult(LoginRequest.Failed($"error loading the cert method's TLS files: {e.Message}"));
                }
            }
        }

        return Task.FromResult(LoginRequest.Login(_mountPath, body, _ownClient));
    }
}
