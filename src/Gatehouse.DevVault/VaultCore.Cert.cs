using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>cert auth: login with the TLS client certificate, verified against the CAs configured per name.</summary>
internal sealed partial class VaultCore
{
    private sealed class CertState
    {
        public SortedDictionary<string, (JsonObject Config, X509Certificate2 Ca)> Certs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);
    }

    private static CertState CertStateOf(Mount m) => (CertState)(m.State ??= new CertState());

    private VaultResponse HandleCert(VaultRequest req, Mount mount, string sub)
    {
        var state = CertStateOf(mount);
        var op = req.Operation;
        if (sub is "certs" or "certs/")
        {
            return op != "list" ? VaultResponse.UnsupportedOperation()
                : state.Certs.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(state.Certs.Keys));
        }
        if (!sub.StartsWith("certs/", StringComparison.Ordinal))
        {
            return VaultResponse.UnsupportedPath();
        }
        var name = sub[6..];
        switch (op)
        {
            case "read":
                return state.Certs.TryGetValue(name, out var c) ? VaultResponse.Ok(c.Config.DeepClone()) : VaultResponse.NotFound();
            case "create" or "update":
                {
                    var pem = req.Body["certificate"]?.ToString();
                    if (string.IsNullOrEmpty(pem))
                    {
                        return VaultResponse.BadRequest("missing certificate");
                    }
                    X509Certificate2 ca;
                    try
                    {
                        ca = X509Certificate2.CreateFromPem(pem);
                    }
                    catch (CryptographicException)
                    {
                        return VaultResponse.BadRequest("failed to parse certificate");
                    }
                    state.Certs[name] = ((JsonObject)req.Body.DeepClone(), ca);
                    return VaultResponse.NoContent();
                }
            case "delete":
                state.Certs.Remove(name);
                return VaultResponse.NoContent();
            default:
                return VaultResponse.UnsupportedOperation();
        }
    }

    private VaultResponse CertLogin(VaultRequest req, Mount mount)
    {
        var state = CertStateOf(mount);
        var client = req.ClientCertificate;
        if (client is null)
        {
            return VaultResponse.BadRequest("invalid certificate or no client certificate supplied");
        }
        var wanted = req.Body["name"]?.ToString();
        foreach (var (name, (config, ca)) in state.Certs)
        {
            if (!string.IsNullOrEmpty(wanted) && wanted != name)
            {
                continue;
            }
            if (!Chains(client, ca))
            {
                continue;
            }
            var cn = client.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            var allowed = StringList(config["allowed_common_names"]);
            if (allowed.Count > 0 && !allowed.Contains(cn))
            {
                continue;
            }
            var meta = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["authority_key_id"] = "",
                ["cert_name"] = name,
                ["common_name"] = cn,
                ["serial_number"] = client.SerialNumber,
                ["subject_key_id"] = "",
            };
            if (!state.Entities.TryGetValue(cn, out var entity))
            {
                entity = Ids.Uuid();
                state.Entities[cn] = entity;
            }
            var display = config["display_name"]?.ToString();
            var p = RoleTokenParams(config, mount, meta, "cert-" + (string.IsNullOrEmpty(display) ? name : display), entity);
            var te = CreateToken(p);
            return new VaultResponse { Auth = AuthFor(te) };
        }
        return VaultResponse.BadRequest("invalid certificate or no client certificate supplied");
    }

    private bool Chains(X509Certificate2 client, X509Certificate2 ca)
    {
        if (client.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span))
        {
            return true;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        return chain.Build(client);
    }
}
