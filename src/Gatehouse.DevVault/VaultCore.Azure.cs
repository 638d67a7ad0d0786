using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// azure auth. Vault verifies the managed-identity JWT against Microsoft Entra ID's published keys and asks Azure
/// Resource Manager for the VM's identity; DevVault has neither and verifies the JWT against the public keys in
/// DevVault's own config key <c>dev_jwt_validation_pubkeys</c> (the tests' instance-metadata emulator signs with the
/// matching private key), then checks what Vault checks offline: <c>aud</c> = the configured <c>resource</c>,
/// <c>iss</c> = <c>https://sts.windows.net/&lt;tenant_id&gt;/</c> when tenant_id is set, <c>exp</c>/<c>nbf</c>, the role's
/// <c>bound_service_principal_ids</c> (the <c>oid</c> claim), <c>bound_subscription_ids</c> and
/// <c>bound_resource_groups</c>. The VM lookup (token oid = the VM's identity, bound_locations, bound_scale_sets) is
/// not done. Paths: <c>config</c>, <c>role/&lt;name&gt;</c>, <c>login</c>.
/// </summary>
internal sealed partial class VaultCore
{

    // Vault returns these as Go errors (not logical.ErrorResponse): a 500 in multierror's words.
    private static VaultResponse AzureError(string message) => VaultResponse.Error(500, $"1 error occurred:\n\t* {message}\n\n");

    private VaultResponse HandleAzure(VaultRequest req, Mount mount, string sub)
    {
        var state = SignedJwtStateOf(mount);
        var op = req.Operation;
        if (sub == "config")
        {
            if (op == "read")
            {
                var shown = (JsonObject)state.Config.DeepClone();
                shown.Remove("client_secret");
                return VaultResponse.Ok(shown);
            }
            if (op is not ("create" or "update"))
            {
                return VaultResponse.UnsupportedOperation();
            }
            var keys = new List<AsymmetricAlgorithm>();
            foreach (var pem in StringList(req.Body["dev_jwt_validation_pubkeys"]))
            {
                var key = ImportPublicKey(pem);
                if (key is null)
                {
                    return VaultResponse.BadRequest("error parsing public key: could not parse PEM public key");
                }
                keys.Add(key);
            }
            state.Keys.Clear();
            state.Keys.AddRange(keys);
            var config = (JsonObject)state.Config.DeepClone();
            foreach (var (key, value) in req.Body)
            {
                config[key] = value?.DeepClone();
            }
            state.Config = config;
            return VaultResponse.NoContent();
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: null) is { } answer)
        {
            return answer;
        }
        return VaultResponse.UnsupportedPath();
    }

    /// <summary>
    /// <c>role</c> (LIST) and <c>role/&lt;name&gt;</c> (read, write, delete) of an auth backend whose roles are stored as
    /// written (azure, gcp); names are case-insensitive. Null when <paramref name="sub"/> is not a role path.
    /// </summary>
    private static VaultResponse? RoleEndpoint(VaultRequest req, string sub, SortedDictionary<string, JsonObject> roles, Func<JsonObject, VaultResponse?>? validate)
    {
        var op = req.Operation;
        if (sub is "role" or "role/")
        {
            return op != "list" ? VaultResponse.UnsupportedOperation()
                : roles.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(roles.Keys));
        }
        if (!sub.StartsWith("role/", StringComparison.Ordinal))
        {
            return null;
        }
        var name = sub["role/".Length..].ToLowerInvariant();
        switch (op)
        {
            case "read":
                return roles.TryGetValue(name, out var r) ? VaultResponse.Ok(r.DeepClone()) : VaultResponse.NotFound();
            case "create" or "update":
                if (validate?.Invoke(req.Body) is { } refused)
                {
                    return refused;
                }
                roles[name] = (JsonObject)req.Body.DeepClone();
                return VaultResponse.NoContent();
            case "delete":
                roles.Remove(name);
                return VaultResponse.NoContent();
            default:
                return VaultResponse.UnsupportedOperation();
        }
    }

    private VaultResponse AzureLogin(VaultRequest req, Mount mount)
    {
        var state = SignedJwtStateOf(mount);
        var jwt = req.Body["jwt"]?.ToString() ?? "";
        if (jwt.Length == 0)
        {
            return VaultResponse.BadRequest("jwt is required");
        }
        var roleName = req.Body["role"]?.ToString() ?? "";
        if (roleName.Length == 0)
        {
            return VaultResponse.BadRequest("role is required");
        }
        if (!state.Roles.TryGetValue(roleName.ToLowerInvariant(), out var role))
        {
            return VaultResponse.BadRequest($"invalid role name \"{roleName}\"");
        }

        var claims = VerifyJwt(jwt, state.Keys, out var error);
        if (claims is null)
        {
            return AzureError(error.Contains("expired", StringComparison.Ordinal) ? "oidc: token is expired"
                : error.Contains("signature", StringComparison.Ordinal) ? "failed to verify signature" : "oidc: malformed jwt");
        }
        var resource = state.Config["resource"]?.ToString() ?? "";
        var aud = claims["aud"] is JsonArray arr ? arr.Select(a => a?.ToString() ?? "").ToList() : claims["aud"] is JsonNode one ? [one.ToString()] : [];
        if (!aud.Contains(resource))
        {
            return AzureError($"oidc: expected audience \"{resource}\" got [{string.Join(' ', aud.Select(a => $"\"{a}\""))}]");
        }
        if (state.Config["tenant_id"]?.ToString() is { Length: > 0 } tenant
            && claims["iss"]?.ToString() is var iss && iss != $"https://sts.windows.net/{tenant}/")
        {
            return AzureError($"oidc: id token issued by a different provider, expected \"https://sts.windows.net/{tenant}/\" got \"{iss}\"");
        }

        var oid = claims["oid"]?.ToString() ?? "";
        var principals = StringList(role["bound_service_principal_ids"]);
        if (principals.Count > 0 && !(principals is ["*"]) && !principals.Contains(oid))
        {
            return AzureError($"service principal not authorized: {oid}");
        }

        var subscription = req.Body["subscription_id"]?.ToString() ?? "";
        var group = req.Body["resource_group_name"]?.ToString() ?? "";
        var vmName = req.Body["vm_name"]?.ToString() ?? "";
        var vmssName = req.Body["vmss_name"]?.ToString() ?? "";
        var subscriptions = StringList(role["bound_subscription_ids"]);
        var groups = StringList(role["bound_resource_groups"]);
        if (subscriptions.Count > 0 || groups.Count > 0)
        {
            if (subscription.Length == 0 || group.Length == 0)
            {
                return AzureError("subscription_id and resource_group_name are required");
            }
            if (subscriptions.Count > 0 && !subscriptions.Contains(subscription))
            {
                return AzureError("subscription not authorized");
            }
            if (groups.Count > 0 && !groups.Contains(group))
            {
                return AzureError("resource group not authorized");
            }
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["role"] = roleName,
            ["resource_group_name"] = group,
            ["subscription_id"] = subscription,
        };
        if (vmName.Length > 0)
        {
            meta["vm_name"] = vmName;
        }
        if (vmssName.Length > 0)
        {
            meta["vmss_name"] = vmssName;
        }
        if (!state.Entities.TryGetValue(oid, out var entity))
        {
            entity = state.Entities[oid] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + oid, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
