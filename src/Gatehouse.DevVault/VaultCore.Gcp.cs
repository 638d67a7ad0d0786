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
/// <c>iam</c> roles: Vault fetches the signing service account's public key by the JWT's <c>kid</c> from Google and
/// looks the account up in the IAM API; DevVault is told the accounts through
/// <c>auth/&lt;mount&gt;/dev-service-accounts/&lt;email&gt;</c> (<c>unique_id</c>, <c>project_id</c>, <c>public_keys</c>: key id →
/// PEM; the tests' signJwt emulator signs with the private halves) and then checks what Vault checks: the signature
/// with the key the <c>kid</c> names, <c>exp</c> (not past, at most 60 minutes away, 60 seconds' tolerance, and within
/// the role's <c>max_jwt_exp</c>, default 15 minutes), <c>sub</c>, every <c>aud</c> ending in <c>vault/&lt;role&gt;</c>,
/// <c>bound_projects</c> and <c>bound_service_accounts</c> (email, unique id or <c>*</c>).
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
        if (sub.StartsWith("dev-service-accounts/", StringComparison.Ordinal))
        {
            if (!write)
            {
                return VaultResponse.UnsupportedOperation();
            }
            var email = sub["dev-service-accounts/".Length..];
            var keys = new Dictionary<string, AsymmetricAlgorithm>(StringComparer.Ordinal);
            foreach (var (kid, pem) in req.Body["public_keys"] as JsonObject ?? [])
            {
                if (ImportPublicKey(pem?.ToString() ?? "") is not { } key)
                {
                    return VaultResponse.BadRequest("error parsing public key: could not parse PEM public key");
                }
                keys[kid] = key;
            }
            state.ServiceAccounts[email] = new GcpServiceAccount(email, req.Body["unique_id"]?.ToString() ?? "",
                req.Body["project_id"]?.ToString() ?? "", keys);
            return VaultResponse.NoContent();
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: body =>
            {
                var type = body["type"]?.ToString() ?? "";
                if (type is not ("gce" or "iam"))
                {
                    return VaultResponse.BadRequest(type.Length == 0 ? "role type must be provided" : $"role type '{type}' is invalid");
                }
                if (type == "iam")
                {
                    var accounts = StringList(body["bound_service_accounts"]);
                    if (accounts.Count == 0)
                    {
                        return VaultResponse.BadRequest("IAM role type must have at least one service account");
                    }
                    if (accounts.Count > 1 && accounts.Contains("*"))
                    {
                        return VaultResponse.BadRequest("cannot provide IAM service account wildcard '*' (for all service accounts) with other service accounts");
                    }
                    if (body["max_jwt_exp"] is { } max && (!GoDuration.TryParseSeconds(max, out var seconds, out _) || seconds > 3600))
                    {
                        return VaultResponse.BadRequest("max_jwt_exp cannot be more than 60 minutes");
                    }
                }
                return null;
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
        if (role["type"]?.ToString() == "iam")
        {
            return GcpIamLogin(state, mount, roleName, role, jwt);
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

    private VaultResponse GcpIamLogin(SignedJwtState state, Mount mount, string roleName, JsonObject role, string jwt)
    {
        // Vault reads kid and sub before verifying, to find the key.
        string kid, subject;
        try
        {
            var parts = jwt.Split('.');
            kid = parts.Length == 3 ? JsonNode.Parse(B64Url(parts[0]))?["kid"]?.ToString() ?? "" : "";
            subject = parts.Length == 3 ? JsonNode.Parse(B64Url(parts[1]))?["sub"]?.ToString() ?? "" : "";
            if (parts.Length != 3)
            {
                return VaultResponse.BadRequest("unable to parse signed JWT: go-jose/go-jose: compact JWS format must have three parts");
            }
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return VaultResponse.BadRequest($"unable to parse signed JWT: {e.Message}");
        }
        var account = state.ServiceAccounts.Values.FirstOrDefault(a => a.Email == subject || (a.UniqueId.Length > 0 && a.UniqueId == subject));
        if (account is null || !account.Keys.TryGetValue(kid, out var key))
        {
            return VaultResponse.BadRequest(
                $"unable to get public key for signed JWT: unable to get public key \"{kid}\" for JWT subject \"{subject}\": service account key not found");
        }
        var claims = VerifyJwt(jwt, [key], out var error);
        if (claims is null)
        {
            return VaultResponse.BadRequest(error.Contains("expired", StringComparison.Ordinal)
                ? "JWT is expired or does not have proper 'exp' claim" : "go-jose/go-jose: error in cryptographic primitive");
        }
        var now = Ids.Unix(Now);
        var exp = claims["exp"] is JsonValue e1 && e1.TryGetValue<double>(out var x) ? (long)x : 0;
        if (exp == 0 || exp < now - 60)
        {
            return VaultResponse.BadRequest("JWT is expired or does not have proper 'exp' claim");
        }
        if (exp - now > 3600 + 60)
        {
            return VaultResponse.BadRequest($"JWT must expire in 60 minutes, expires in {GoDuration.Format(exp - now)}");
        }
        if (subject.Length == 0)
        {
            return VaultResponse.BadRequest("expected JWT to have 'sub' claim with service account id or email");
        }
        var suffix = $"vault/{roleName}";
        var audiences = claims["aud"] is JsonArray many ? many.Select(a => a?.ToString() ?? "").ToList()
            : claims["aud"] is JsonNode one ? [one.ToString()] : new List<string>();
        if (audiences.Any(a => !a.EndsWith(suffix, StringComparison.Ordinal)))
        {
            return VaultResponse.BadRequest($"at least one of the JWT claim 'aud' must end in \"{suffix}\"");
        }
        var maxExp = role["max_jwt_exp"] is { } m && GoDuration.TryParseSeconds(m, out var s, out _) ? s : 15 * 60;
        if (exp > now + maxExp)
        {
            return VaultResponse.BadRequest($"role requires that service account JWTs expire within {maxExp} seconds");
        }
        var projects = StringList(role["bound_projects"]);
        if (projects.Count > 0 && !projects.Contains(account.ProjectId))
        {
            return VaultResponse.BadRequest($"service account \"{account.Email}\" not in bound projects [{string.Join(' ', projects)}]");
        }
        var accounts = StringList(role["bound_service_accounts"]);
        if (!(accounts is ["*"] || accounts.Contains(account.Email) || accounts.Contains(account.UniqueId)))
        {
            return VaultResponse.BadRequest($"service account {account.Email} (id: {account.UniqueId}) is not authorized for role");
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["role"] = roleName,
            ["service_account_id"] = account.UniqueId,
            ["service_account_email"] = account.Email,
            ["project_id"] = account.ProjectId,
        };
        if (!state.Entities.TryGetValue(account.UniqueId, out var entity))
        {
            entity = state.Entities[account.UniqueId] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + account.Email, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
