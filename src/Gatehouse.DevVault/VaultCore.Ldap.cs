using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// ldap auth. Vault binds to an LDAP server with the login's username and password; DevVault has no LDAP server and
/// checks them against its own stand-in directory instead, written through <c>auth/&lt;mount&gt;/dev-directory/&lt;username&gt;</c>
/// (<c>password</c>, and <c>groups</c>: the LDAP groups the server would report). Vault's own paths are as Vault's:
/// <c>config</c> (its <c>token_*</c> keys, <c>case_sensitive_names</c>, <c>deny_null_bind</c>; the LDAP connection keys
/// are stored and unused), <c>users/&lt;name&gt;</c> (<c>groups</c>, <c>policies</c>), <c>groups/&lt;name&gt;</c>
/// (<c>policies</c>) and <c>login/&lt;username&gt;</c>.
/// </summary>
internal sealed partial class VaultCore
{
    /// <summary>Vault's <c>errUserBindFailed</c>: a wrong password or an unknown user.</summary>
    internal const string LdapBindFailed = "ldap operation failed: failed to bind as user";

    private sealed class LdapState
    {
        public JsonObject Config { get; set; } = [];
        public SortedDictionary<string, (List<string> Groups, List<string> Policies)> Users { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, List<string>> Groups { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, (string Password, List<string> Groups)> Directory { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);

        public bool CaseSensitive => Config["case_sensitive_names"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

        public string Canonical(string name) => CaseSensitive ? name : name.ToLowerInvariant();
    }

    private static LdapState LdapStateOf(Mount m) => (LdapState)(m.State ??= new LdapState());

    private VaultResponse HandleLdap(VaultRequest req, Mount mount, string sub)
    {
        var state = LdapStateOf(mount);
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
            var config = (JsonObject)state.Config.DeepClone();
            foreach (var (key, value) in req.Body)
            {
                config[key] = value?.DeepClone();
            }
            state.Config = config;
            return VaultResponse.NoContent();
        }
        foreach (var (prefix, isUsers) in new[] { ("users", true), ("groups", false) })
        {
            if (sub == prefix || sub == prefix + "/")
            {
                IReadOnlyCollection<string> keys = isUsers ? state.Users.Keys : state.Groups.Keys;
                return op != "list" ? VaultResponse.UnsupportedOperation()
                    : keys.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(keys));
            }
            if (!sub.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                continue;
            }
            var name = state.Canonical(sub[(prefix.Length + 1)..]);
            switch (op)
            {
                case "read" when isUsers:
                    return state.Users.TryGetValue(name, out var u)
                        ? VaultResponse.Ok(new JsonObject { ["groups"] = string.Join(',', u.Groups), ["policies"] = StringArray(u.Policies) })
                        : VaultResponse.NotFound();
                case "read":
                    return state.Groups.TryGetValue(name, out var g)
                        ? VaultResponse.Ok(new JsonObject { ["policies"] = StringArray(g) })
                        : VaultResponse.NotFound();
                case "create" or "update" when isUsers:
                    var groups = StringList(req.Body["groups"]).Select(state.Canonical).Distinct(StringComparer.Ordinal).ToList();
                    state.Users[name] = (groups, Policies(req.Body["policies"]));
                    return VaultResponse.NoContent();
                case "create" or "update":
                    state.Groups[name] = Policies(req.Body["policies"]);
                    return VaultResponse.NoContent();
                case "delete" when isUsers:
                    state.Users.Remove(name);
                    return VaultResponse.NoContent();
                case "delete":
                    state.Groups.Remove(name);
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        if (sub.StartsWith("dev-directory/", StringComparison.Ordinal))
        {
            // DevVault's stand-in for the LDAP server's entries; usernames are kept as written (LDAP decides).
            var name = sub["dev-directory/".Length..];
            switch (op)
            {
                case "create" or "update":
                    state.Directory[name] = (req.Body["password"]?.ToString() ?? "", StringList(req.Body["groups"]));
                    return VaultResponse.NoContent();
                case "read":
                    return state.Directory.TryGetValue(name, out var entry)
                        ? VaultResponse.Ok(new JsonObject { ["groups"] = StringArray(entry.Groups) })
                        : VaultResponse.NotFound();
                case "delete":
                    state.Directory.Remove(name);
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        return VaultResponse.UnsupportedPath();
    }

    private static List<string> Policies(JsonNode? node) =>
        StringList(node).Select(p => p.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();

    private VaultResponse LdapLogin(VaultRequest req, Mount mount, string sub)
    {
        var state = LdapStateOf(mount);
        var username = sub.StartsWith("login/", StringComparison.Ordinal) ? sub["login/".Length..] : "";
        if (username.Length == 0)
        {
            // Vault's route is login/(?P<username>.+): a bare login is no path of the backend.
            return VaultResponse.UnsupportedPath();
        }
        var password = req.Body["password"]?.ToString() ?? "";
        var denyNullBind = state.Config["deny_null_bind"] is not JsonValue d || !d.TryGetValue<bool>(out var deny) || deny;
        if (denyNullBind && password.Length == 0)
        {
            return VaultResponse.BadRequest("password cannot be of zero length when passwordless binds are being denied");
        }
        if (!state.Directory.TryGetValue(username, out var entry) || entry.Password != password)
        {
            return VaultResponse.BadRequest(LdapBindFailed);
        }

        var canonical = state.Canonical(username);
        state.Users.TryGetValue(canonical, out var user);
        var allGroups = (user.Groups ?? []).Concat(entry.Groups).Select(state.Canonical).ToList();
        var policies = new List<string>();
        foreach (var group in allGroups)
        {
            if (state.Groups.TryGetValue(group, out var groupPolicies))
            {
                policies.AddRange(groupPolicies);
            }
        }
        policies.AddRange(user.Policies ?? []);
        policies.AddRange(StringList(state.Config["token_policies"]));
        if (!state.Entities.TryGetValue(username, out var entity))
        {
            entity = state.Entities[username] = Ids.Uuid();
        }

        var ttl = GoDuration.SecondsOrZero(state.Config["token_ttl"] ?? state.Config["ttl"]);
        var te = CreateToken(new TokenParams
        {
            Policies = policies.Distinct(StringComparer.Ordinal).ToList(),
            Ttl = ttl > 0 ? ttl : mount.DefaultLeaseTtl,
            MaxTtl = GoDuration.SecondsOrZero(state.Config["token_max_ttl"] ?? state.Config["max_ttl"]),
            MountMaxTtl = mount.MaxLeaseTtl,
            Period = GoDuration.SecondsOrZero(state.Config["token_period"]),
            Meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["username"] = username },
            DisplayName = mount.Type + "-" + username,
            Path = "auth/" + mount.Path + sub,
            EntityId = entity,
        });
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
