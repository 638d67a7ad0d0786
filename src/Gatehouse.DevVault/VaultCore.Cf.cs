using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// cf auth (vault-plugin-auth-cf), mounted as <c>cf</c> or <c>pcf</c>. Paths: <c>config</c>
/// (<c>identity_ca_certificates</c>, <c>login_max_seconds_not_before</c> 300, <c>login_max_seconds_not_after</c> 60;
/// the CF API keys are stored and unused), <c>roles/&lt;name&gt;</c> (<c>bound_application_ids</c>,
/// <c>bound_space_ids</c>, <c>bound_organization_ids</c>, <c>bound_instance_ids</c>, <c>disable_ip_matching</c>, the
/// token keys) and <c>login</c> (<c>role</c>, <c>cf_instance_cert</c>, <c>signing_time</c>, <c>signature</c>). Login
/// checks what the plugin checks offline: the signing time window, the instance certificate's chain to an identity
/// CA at DevVault's clock, the RSA-PSS SHA-256 signature (<c>v1:</c> + base64) over signing time + certificate +
/// role, the certificate's IP against the caller's unless the role disables it, and the CN (instance) and OU
/// (<c>organization:</c>, <c>space:</c>, <c>app:</c>) GUIDs against the role's bounds. The plugin's calls to the CF API
/// (the app, space and org exist and match) are not made.
/// </summary>
internal sealed partial class VaultCore
{
    private const string CfTimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    private VaultResponse HandleCf(VaultRequest req, Mount mount, string sub)
    {
        var state = SignedJwtStateOf(mount);
        var op = req.Operation;
        var write = op is "create" or "update";
        if (sub == "config")
        {
            if (op == "read")
            {
                return VaultResponse.Ok(state.Config.DeepClone());
            }
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            foreach (var pem in StringList(req.Body["identity_ca_certificates"]))
            {
                try
                {
                    using var _ = X509Certificate2.CreateFromPem(pem);
                }
                catch (CryptographicException)
                {
                    return VaultResponse.BadRequest("couldn't parse identity_ca_certificates");
                }
            }
            state.Config = (JsonObject)req.Body.DeepClone();
            return VaultResponse.NoContent();
        }
        if (sub is "roles" or "roles/")
        {
            return op != "list" ? VaultResponse.UnsupportedOperation()
                : state.Roles.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(state.Roles.Keys));
        }
        if (sub.StartsWith("roles/", StringComparison.Ordinal))
        {
            var name = sub["roles/".Length..];
            switch (op)
            {
                case "read":
                    return state.Roles.TryGetValue(name, out var r) ? VaultResponse.Ok(r.DeepClone()) : VaultResponse.NotFound();
                case "create" or "update":
                    state.Roles[name] = (JsonObject)req.Body.DeepClone();
                    return VaultResponse.NoContent();
                case "delete":
                    state.Roles.Remove(name);
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse CfLogin(VaultRequest req, Mount mount)
    {
        var state = SignedJwtStateOf(mount);
        var roleName = req.Body["role"]?.ToString() ?? "";
        if (roleName.Length == 0)
        {
            return VaultResponse.BadRequest("role is required");
        }
        if (!state.Roles.TryGetValue(roleName, out var role))
        {
            return VaultResponse.BadRequest($"invalid role name \"{roleName}\"");
        }
        var signature = req.Body["signature"]?.ToString() ?? "";
        if (signature.Length == 0)
        {
            return VaultResponse.BadRequest("'signature' is required");
        }
        var certPem = req.Body["cf_instance_cert"]?.ToString() ?? "";
        if (certPem.Length == 0)
        {
            return VaultResponse.BadRequest("'cf_instance_cert' is required");
        }
        var signingTimeText = req.Body["signing_time"]?.ToString() ?? "";
        if (signingTimeText.Length == 0)
        {
            return VaultResponse.BadRequest("'signing_time' is required");
        }
        if (!DateTimeOffset.TryParseExact(signingTimeText, CfTimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signingTime))
        {
            return VaultResponse.BadRequest($"couldn't parse {signingTimeText}");
        }
        var cas = StringList(state.Config["identity_ca_certificates"]);
        if (cas.Count == 0)
        {
            return VaultResponse.Error(500, "no CA is configured for verifying client certificates");
        }
        var notBefore = GoDuration.TryParseSeconds(state.Config["login_max_seconds_not_before"], out var nb, out _) && nb > 0 ? nb : 300;
        var notAfter = GoDuration.TryParseSeconds(state.Config["login_max_seconds_not_after"], out var na, out _) && na > 0 ? na : 60;
        if (signingTime < Now.AddSeconds(-notBefore))
        {
            return VaultResponse.BadRequest($"request is too old; signed at {signingTime:u} but received request at {Now:u}; allowable seconds old is {notBefore}");
        }
        if (signingTime > Now.AddSeconds(notAfter))
        {
            return VaultResponse.BadRequest($"request is too far in the future; signed at {signingTime:u} but received request at {Now:u}; allowable seconds in the future is {notAfter}");
        }

        // The instance certificate (the first PEM block) must chain, with any intermediates that follow it, to an identity CA.
        X509Certificate2Collection presented = [];
        try
        {
            presented.ImportFromPem(certPem);
        }
        catch (CryptographicException e)
        {
            return VaultResponse.BadRequest($"x509: {e.Message}");
        }
        if (presented.Count == 0)
        {
            return VaultResponse.BadRequest("no certificate found in cf_instance_cert");
        }
        var leaf = presented[0];
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = Now.UtcDateTime;
            foreach (var pem in cas)
            {
                chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(pem));
            }
            for (var i = 1; i < presented.Count; i++)
            {
                chain.ChainPolicy.ExtraStore.Add(presented[i]);
            }
            if (!chain.Build(leaf))
            {
                return VaultResponse.BadRequest("x509: certificate signed by unknown authority");
            }
        }

        var parts = signature.Split(':');
        byte[] signatureBytes;
        try
        {
            signatureBytes = parts.Length switch
            {
                1 => Convert.FromBase64String(parts[0].Replace('-', '+').Replace('_', '/')),
                2 when parts[0] == "v1" => Convert.FromBase64String(parts[1]),
                2 => throw new InvalidOperationException($"invalid signature version \"{parts[0]}\""),
                _ => throw new InvalidOperationException("invalid signature format"),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            return VaultResponse.BadRequest(e.Message);
        }
        var signed = Encoding.UTF8.GetBytes(signingTime.UtcDateTime.ToString(CfTimeFormat, CultureInfo.InvariantCulture) + certPem + roleName);
        var verified = presented.Any(c => c.GetRSAPublicKey() is { } key && key.VerifyData(signed, signatureBytes, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        if (!verified)
        {
            return VaultResponse.BadRequest("1 error occurred:\n\t* crypto/rsa: verification error\n\n");
        }

        // The CF instance identity: CN = instance GUID; OU = organization:<guid>, space:<guid>, app:<guid>.
        string instance = "", org = "", space = "", app = "";
        foreach (var rdn in leaf.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var oid = rdn.GetSingleElementType().Value;
            var value = rdn.GetSingleElementValue() ?? "";
            if (oid == "2.5.4.3")
            {
                instance = value;
            }
            else if (oid == "2.5.4.11")
            {
                org = value.StartsWith("organization:", StringComparison.Ordinal) ? value["organization:".Length..] : org;
                space = value.StartsWith("space:", StringComparison.Ordinal) ? value["space:".Length..] : space;
                app = value.StartsWith("app:", StringComparison.Ordinal) ? value["app:".Length..] : app;
            }
        }
        if (role["disable_ip_matching"]?.ToString() is not ("true" or "True"))
        {
            var caller = req.Http.Connection.RemoteIpAddress is { } ip && ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : req.Http.Connection.RemoteIpAddress;
            var sans = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(s => s.EnumerateIPAddresses()).ToList();
            if (caller is null || !sans.Any(a => a.Equals(caller)))
            {
                return VaultResponse.BadRequest("no matching IP address");
            }
        }
        static bool Meets(string value, JsonNode? bounds)
        {
            var list = StringList(bounds);
            return list.Count == 0 || list.Contains(value);
        }
        string Bounds(string key) => "[" + string.Join(' ', StringList(role[key])) + "]";
        if (!Meets(instance, role["bound_instance_ids"]))
        {
            return VaultResponse.BadRequest($"instance ID {instance} doesn't match role constraints of {Bounds("bound_instance_ids")}");
        }
        if (!Meets(app, role["bound_application_ids"]))
        {
            return VaultResponse.BadRequest($"app ID {app} doesn't match role constraints of {Bounds("bound_application_ids")}");
        }
        if (!Meets(org, role["bound_organization_ids"]))
        {
            return VaultResponse.BadRequest($"org ID {org} doesn't match role constraints of {Bounds("bound_organization_ids")}");
        }
        if (!Meets(space, role["bound_space_ids"]))
        {
            return VaultResponse.BadRequest($"space ID {space} doesn't match role constraints of {Bounds("bound_space_ids")}");
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["role"] = roleName,
            ["instance_id"] = instance,
            ["org_id"] = org,
            ["app_id"] = app,
            ["space_id"] = space,
        };
        if (!state.Entities.TryGetValue(app, out var entity))
        {
            entity = state.Entities[app] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, instance, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
