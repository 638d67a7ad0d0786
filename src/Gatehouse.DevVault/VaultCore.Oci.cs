using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// oci auth (vault-plugin-auth-oci). Vault checks the login's <c>(request-target)</c> itself (<c>get</c>,
/// <c>/v1/auth/&lt;mount&gt;/login/&lt;role&gt;</c>) and hands the signed headers to OCI's identity service
/// (AuthenticateClient), which verifies the signature and names the principal, then asks it which of the role's
/// <c>ocid_list</c> groups the principal belongs to (FilterGroupMembership). DevVault plays the identity service:
/// API keys are registered through <c>auth/&lt;mount&gt;/dev-api-keys</c> (<c>key_id</c> =
/// <c>tenancy/user/fingerprint</c>, <c>public_key</c> PEM, <c>groups</c>: the group OCIDs the user is in); a login's
/// <c>Authorization</c> is parsed, the signing string rebuilt from <c>request_headers</c> in the order its
/// <c>headers</c> names them, the RSA-SHA256 signature verified with the key registered for the <c>keyId</c>, and the
/// <c>Date</c> must be within 5 minutes of DevVault's clock. Vault's paths: <c>config</c> (<c>home_tenancy_id</c>, the
/// principal's tenancy must equal it), <c>role/&lt;name&gt;</c> (<c>ocid_list</c>, the <c>token_*</c> keys) and
/// <c>login/&lt;role&gt;</c> (<c>request_headers</c>). Tokens are not renewable (the plugin sets Renewable = false).
/// </summary>
internal sealed partial class VaultCore
{
    /// <summary>How far a signed request's <c>Date</c> may be from now (OCI's documented clock-skew limit).</summary>
    private static readonly TimeSpan OciDateWindow = TimeSpan.FromMinutes(5);

    private const int OciMaxOcidsPerRole = 100;

    private sealed class OciState
    {
        public string? HomeTenancyId { get; set; }
        public SortedDictionary<string, JsonObject> Roles { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, (RSA Key, List<string> Groups)> ApiKeys { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);

        /// <summary>Keys of the (emulated) federation service that sign security tokens, with the instances' dynamic groups.</summary>
        public List<(RSA Key, List<string> Groups)> TokenKeys { get; } = [];
    }

    /// <summary>Who a verified signature names: the tenancy and the groups it is in.</summary>
    private sealed record OciPrincipal(string Tenancy, List<string> Groups);

    private static OciState OciStateOf(Mount m) => (OciState)(m.State ??= new OciState());

    private VaultResponse HandleOci(VaultRequest req, Mount mount, string sub)
    {
        var state = OciStateOf(mount);
        var op = req.Operation;
        var write = op is "create" or "update";
        if (sub == "config")
        {
            if (op == "read")
            {
                return state.HomeTenancyId is null ? VaultResponse.NotFound()
                    : VaultResponse.Ok(new JsonObject { ["home_tenancy_id"] = state.HomeTenancyId });
            }
            if (op == "delete")
            {
                state.HomeTenancyId = null;
                return VaultResponse.NoContent();
            }
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            if (req.Body["home_tenancy_id"]?.ToString() is not { Length: > 0 } tenancy)
            {
                return VaultResponse.BadRequest("Missing homeTenancyId");
            }
            state.HomeTenancyId = tenancy;
            return VaultResponse.NoContent();
        }
        if (sub == "dev-api-keys")
        {
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            var keyId = req.Body["key_id"]?.ToString() ?? "";
            if (keyId.Split('/').Length != 3 || ImportPublicKey(req.Body["public_key"]?.ToString() ?? "") is not RSA key)
            {
                return VaultResponse.BadRequest("key_id (tenancy/user/fingerprint) and public_key (an RSA public key in PEM) are required");
            }
            state.ApiKeys[keyId] = (key, StringList(req.Body["groups"]));
            return VaultResponse.NoContent();
        }
        if (sub == "dev-token-keys")
        {
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            if (ImportPublicKey(req.Body["public_key"]?.ToString() ?? "") is not RSA tokenKey)
            {
                return VaultResponse.BadRequest("public_key (the RSA public key, in PEM, that signs security tokens) is required");
            }
            state.TokenKeys.Add((tokenKey, StringList(req.Body["groups"])));
            return VaultResponse.NoContent();
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: role =>
                StringList(role["ocid_list"]).Count > OciMaxOcidsPerRole
                    ? VaultResponse.BadRequest("Number of OCIDs for this role exceeds the limit") : null) is { } answer)
        {
            return answer;
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse OciLogin(VaultRequest req, Mount mount, string sub)
    {
        var state = OciStateOf(mount);
        if (!sub.StartsWith("login/", StringComparison.Ordinal) || sub.Length == "login/".Length)
        {
            return VaultResponse.UnsupportedOperation();
        }
        var roleName = sub["login/".Length..].ToLowerInvariant();
        if (!state.Roles.TryGetValue(roleName, out var role))
        {
            return VaultResponse.BadRequest("Role is not found");
        }
        var headers = OciHeaders(req.Body["request_headers"]);
        var target = headers.GetValueOrDefault("(request-target)");
        if (target is null)
        {
            return VaultResponse.BadRequest("no (request-target) specified in header");
        }
        var parts = target.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var segments = parts.Length == 2 ? parts[1].TrimStart('/').Split('/') : [];
        if (parts.Length != 2 || !parts[0].Equals("get", StringComparison.OrdinalIgnoreCase) || segments.Length < 5
            || segments[0] != "v1" || segments[1] != "auth" || segments[^2] != "login" || segments[^1] != roleName)
        {
            return VaultResponse.BadRequest("incorrect (request-target) specified in header");
        }

        var principal = OciAuthenticate(state, headers);
        if (principal is null)
        {
            return VaultResponse.BadRequest("OCI authentication failed");
        }
        if (string.IsNullOrEmpty(state.HomeTenancyId))
        {
            return VaultResponse.BadRequest("Home Tenancy is invalid");
        }
        if (principal.Tenancy != state.HomeTenancyId)
        {
            return VaultResponse.BadRequest("Invalid Tenancy");
        }
        if (!StringList(role["ocid_list"]).Any(principal.Groups.Contains))
        {
            return VaultResponse.BadRequest("Entity not a part of any of the Role OCIDs");
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["role_name"] = roleName };
        if (!state.Entities.TryGetValue(roleName, out var entity))
        {
            entity = state.Entities[roleName] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + roleName, entity) with { Renewable = false });
        return new VaultResponse { Auth = AuthFor(te) };
    }

    /// <summary>
    /// The identity service's part: the principal when the <c>Authorization</c> signature verifies over the headers it
    /// names (which must include date, (request-target) and host) with the key its keyId names — an API key
    /// registered as <c>tenancy/user/fingerprint</c>, or for <c>ST$&lt;token&gt;</c> the session key carried by a
    /// security token that a registered token key signed — and the <c>Date</c> is within <see cref="OciDateWindow"/>;
    /// null otherwise.
    /// </summary>
    private OciPrincipal? OciAuthenticate(OciState state, Dictionary<string, string> headers)
    {
        if (headers.GetValueOrDefault("authorization") is not { } authorization
            || !authorization.StartsWith("Signature ", StringComparison.Ordinal))
        {
            return null;
        }
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in authorization["Signature ".Length..].Split(','))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                parameters[item[..eq].Trim()] = item[(eq + 1)..].Trim().Trim('"');
            }
        }
        if (parameters.GetValueOrDefault("algorithm") != "rsa-sha256" || parameters.GetValueOrDefault("version") is not (null or "1")
            || parameters.GetValueOrDefault("keyId") is not { } keyId || OciSigner(state, keyId) is not var (signerKey, principal)
            || parameters.GetValueOrDefault("signature") is not { } signature)
        {
            return null;
        }
        var signed = (parameters.GetValueOrDefault("headers") ?? "date").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!signed.Contains("date") || !signed.Contains("(request-target)") || !signed.Contains("host"))
        {
            return null;
        }
        var lines = new List<string>();
        foreach (var name in signed)
        {
            if (headers.GetValueOrDefault(name.ToLowerInvariant()) is not { } value)
            {
                return null;
            }
            lines.Add($"{name}: {value}");
        }
        byte[] signatureBytes;
        try
        {
            signatureBytes = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return null;
        }
        if (!signerKey.VerifyData(Encoding.UTF8.GetBytes(string.Join('\n', lines)), signatureBytes, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return null;
        }
        if (!DateTimeOffset.TryParseExact(headers["date"], "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            || (date - Now).Duration() > OciDateWindow)
        {
            return null;
        }
        return principal;
    }

    /// <summary>The key that must have signed for <paramref name="keyId"/>, and whom it names; null when unknown.</summary>
    private (RSA Key, OciPrincipal Principal)? OciSigner(OciState state, string keyId)
    {
        if (!keyId.StartsWith("ST$", StringComparison.Ordinal))
        {
            return state.ApiKeys.TryGetValue(keyId, out var registered)
                ? (registered.Key, new OciPrincipal(keyId.Split('/')[0], registered.Groups)) : null;
        }
        var parts = keyId["ST$".Length..].Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            var signature = B64Url(parts[2]);
            var groups = state.TokenKeys.FirstOrDefault(k => k.Key.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)).Groups;
            if (groups is null || JsonNode.Parse(B64Url(parts[1])) is not JsonObject claims
                || claims["exp"]?.GetValue<long>() is not { } exp || DateTimeOffset.FromUnixTimeSeconds(exp) <= Now
                || claims["tenant"]?.ToString() is not { Length: > 0 } tenancy
                || JsonNode.Parse(claims["jwk"]?.ToString() ?? "") is not JsonObject jwk)
            {
                return null;
            }
            var session = RSA.Create();
            session.ImportParameters(new RSAParameters
            {
                Modulus = B64Url(jwk["n"]?.ToString() ?? ""), Exponent = B64Url(jwk["e"]?.ToString() ?? ""),
            });
            return (session, new OciPrincipal(tenancy, groups));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary><c>request_headers</c> as Vault's TypeHeader reads it (a list or a string per name), by lower-case name, first value.</summary>
    private static Dictionary<string, string> OciHeaders(JsonNode? node)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is not JsonObject o)
        {
            return headers;
        }
        foreach (var (name, value) in o)
        {
            var first = value is JsonArray a ? a.FirstOrDefault()?.ToString() : value?.ToString();
            if (first is not null)
            {
                headers.TryAdd(name.ToLowerInvariant(), first);
            }
        }
        return headers;
    }
}
