using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// gcp auth, <c>gce</c> roles. Vault checks a GCE instance identity JWT against Google's published certificates and
/// asks the Compute API about the instance; DevVault has neither and is given the signing keys instead, through
/// <c>auth/&lt;mount&gt;/dev-keys</c> (<c>pem_keys</c>: PEM public keys or certificates; the tests' metadata emulator
/// signs with the private half). Vault's paths: <c>config</c> (stored, unused), <c>role/&lt;name&gt;</c> (<c>type</c>,
/// <c>policies</c>/<c>token_policies</c>, <c>bound_projects</c>, <c>bound_zones</c>, <c>bound_service_accounts</c>,
/// the <c>token_*</c> keys) and <c>login</c> (<c>role</c>, <c>jwt</c>). The bound fields are checked against the JWT's
/// <c>google.compute_engine</c> claims and its <c>email</c> (Vault looks the instance up instead).
/// </summary>
internal sealed partial class VaultCore
{

    private VaultResponse HandleGcp(VaultRequest req, Mount mount, string sub)
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
            state.Config = (JsonObject)req.Body.DeepClone();
            return VaultResponse.NoContent();
        }
        if (sub == "dev-keys")
        {
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            var keys = new List<AsymmetricAlgorithm>();
            foreach (var pem in StringList(req.Body["pem_keys"]))
            {
                if (ImportPublicKey(pem) is not { } key)
                {
                    return VaultResponse.BadRequest("error parsing public key: could not parse PEM public key");
                }
                keys.Add(key);
            }
            state.Keys.Clear();
            state.Keys.AddRange(keys);
            return VaultResponse.NoContent();
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: body =>
            {
                var type = body["type"]?.ToString() ?? "";
                return type is "gce" or "iam" ? null
                    : VaultResponse.BadRequest(type.Length == 0 ? "role type must be provided" : $"role type '{type}' is invalid");
            }) is { } answer)
        {
            return answer;
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse GcpLogin(VaultRequest req, Mount mount)
    {
        var state = SignedJwtStateOf(mount);
        var roleName = req.Body["role"]?.ToString() ?? "";
        if (roleName.Length == 0)
        {
            return VaultResponse.BadRequest("role is required");
        }
        var jwt = req.Body["jwt"]?.ToString() ?? "";
        if (jwt.Length == 0)
        {
            return VaultResponse.BadRequest("jwt argument is required");
        }
        if (!state.Roles.TryGetValue(roleName.ToLowerInvariant(), out var role))
        {
            return VaultResponse.BadRequest($"invalid role name \"{roleName}\"");
        }
        if (role["type"]?.ToString() != "gce")
        {
            return VaultResponse.BadRequest($"login for role type \"{role["type"]}\" is not supported by DevVault (only gce)");
        }
        var claims = VerifyJwt(jwt, state.Keys, out var error);
        if (claims is null)
        {
            return VaultResponse.BadRequest($"unable to validate JWT: {error}");
        }
        if (claims["exp"] is not JsonValue)
        {
            return VaultResponse.BadRequest("unable to validate JWT: JWT must have exp claim");
        }
        var suffix = $"vault/{roleName}";
        var audiences = claims["aud"] is JsonArray many ? many.Select(a => a?.ToString() ?? "").ToList()
            : claims["aud"] is JsonNode one ? [one.ToString()] : new List<string>();
        if (!audiences.Any(a => a.EndsWith(suffix, StringComparison.Ordinal)))
        {
            return VaultResponse.BadRequest($"at least one of the JWT claim 'aud' must end in \"{suffix}\"");
        }
        if (claims["google"]?["compute_engine"] is not JsonObject gce)
        {
            return VaultResponse.BadRequest("instance not found: the JWT has no google.compute_engine claims (was it fetched with format=full?)");
        }
        var project = gce["project_id"]?.ToString() ?? "";
        var zone = gce["zone"]?.ToString() ?? "";
        var instance = gce["instance_name"]?.ToString() ?? "";
        var email = claims["email"]?.ToString() ?? "";
        static bool Bound(JsonNode? allowed, string value)
        {
            var list = StringList(allowed);
            return list.Count == 0 || list.Contains("*") || list.Contains(value);
        }
        if (!Bound(role["bound_projects"], project))
        {
            return VaultResponse.BadRequest($"instance not in bound projects {StringArray(StringList(role["bound_projects"])).ToJsonString()}");
        }
        if (!Bound(role["bound_zones"], zone))
        {
            return VaultResponse.BadRequest($"instance zone {zone} is not in role zones {StringArray(StringList(role["bound_zones"])).ToJsonString()}");
        }
        if (!Bound(role["bound_service_accounts"], email))
        {
            return VaultResponse.BadRequest($"service account {email} is not in role bound service accounts");
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["role"] = roleName,
            ["project_id"] = project,
            ["zone"] = zone,
            ["instance_name"] = instance,
            ["instance_id"] = gce["instance_id"]?.ToString() ?? "",
            ["service_account_email"] = email,
        };
        var alias = gce["instance_id"]?.ToString() is { Length: > 0 } id ? id : instance;
        if (!state.Entities.TryGetValue(alias, out var entity))
        {
            entity = state.Entities[alias] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + instance, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
