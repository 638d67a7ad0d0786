using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// kerberos auth, as Vault's plugin: <c>config</c> (<c>keytab</c>: the service's keytab, base64; <c>service_account</c>;
/// <c>remove_instance_name</c>; <c>add_group_aliases</c>), <c>config/ldap</c> (required before a login, as in Vault;
/// its <c>upndomain</c> must equal the client's realm when set, and its <c>token_*</c> keys shape the token),
/// <c>groups/&lt;name&gt;</c> (<c>policies</c>) and <c>login</c> (<c>Authorization: Negotiate &lt;SPNEGO&gt;</c>, or the
/// <c>authorization</c> field). The token is verified for real against the keytab (<see cref="GssAcceptor"/>). Vault
/// then asks LDAP for the user's groups; DevVault has no LDAP server and reads them from its stand-in directory,
/// <c>dev-directory/&lt;username&gt;</c> (<c>groups</c>), as the ldap backend does. A user missing there fails as
/// Vault's LDAP search would. Tokens are not renewable, as Vault's kerberos tokens are not.
/// </summary>
internal sealed partial class VaultCore
{
    private sealed class KerberosState
    {
        public byte[]? Keytab { get; set; }
        public JsonObject Config { get; set; } = [];
        public JsonObject? Ldap { get; set; }
        public SortedDictionary<string, List<string>> Groups { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<string>> Directory { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);

        public bool Flag(string key) => Config[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    }

    private static KerberosState KerberosStateOf(Mount m) => (KerberosState)(m.State ??= new KerberosState());

    private VaultResponse HandleKerberos(VaultRequest req, Mount mount, string sub)
    {
        var state = KerberosStateOf(mount);
        var op = req.Operation;
        var write = op is "create" or "update";
        switch (sub)
        {
            case "login":
                // Vault's read of login asks for the Negotiate header.
                return op == "read" ? VaultResponse.Error(401, "authentication required") : VaultResponse.UnsupportedOperation();
            case "config" when op == "read":
                // The keytab is never returned, as in Vault.
                return state.Keytab is null ? VaultResponse.NotFound() : VaultResponse.Ok(new JsonObject
                {
                    ["service_account"] = state.Config["service_account"]?.DeepClone(),
                    ["remove_instance_name"] = state.Flag("remove_instance_name"),
                    ["add_group_aliases"] = state.Flag("add_group_aliases"),
                });
            case "config" when write:
                return WriteKerberosConfig(state, req.Body);
            case "config/ldap" when op == "read":
                return state.Ldap is null ? VaultResponse.NotFound() : VaultResponse.Ok(state.Ldap.DeepClone());
            case "config/ldap" when write:
                var ldap = (JsonObject)(state.Ldap ?? []).DeepClone();
                foreach (var (key, value) in req.Body)
                {
                    ldap[key] = value?.DeepClone();
                }
                state.Ldap = ldap;
                return VaultResponse.NoContent();
            case "config" or "config/ldap":
                return VaultResponse.UnsupportedOperation();
            case "groups" or "groups/":
                return op != "list" ? VaultResponse.UnsupportedOperation()
                    : state.Groups.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(state.Groups.Keys));
        }
        if (sub.StartsWith("groups/", StringComparison.Ordinal))
        {
            var name = sub["groups/".Length..];
            switch (op)
            {
                case "read":
                    return state.Groups.TryGetValue(name, out var policies)
                        ? VaultResponse.Ok(new JsonObject { ["policies"] = StringArray(policies) })
                        : VaultResponse.NotFound();
                case "create" or "update":
                    state.Groups[name] = Policies(req.Body["policies"]);
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
            var name = sub["dev-directory/".Length..];
            switch (op)
            {
                case "create" or "update":
                    state.Directory[name] = StringList(req.Body["groups"]);
                    return VaultResponse.NoContent();
                case "read":
                    return state.Directory.TryGetValue(name, out var groups)
                        ? VaultResponse.Ok(new JsonObject { ["groups"] = StringArray(groups) })
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

    private static VaultResponse WriteKerberosConfig(KerberosState state, JsonObject body)
    {
        var serviceAccount = body["service_account"]?.ToString() ?? "";
        if (serviceAccount.Length == 0)
        {
            return VaultResponse.BadRequest("data does not contain service_account");
        }
        var encoded = body["keytab"]?.ToString() ?? "";
        if (encoded.Length == 0)
        {
            return VaultResponse.BadRequest("data does not contain keytab");
        }
        byte[] keytab;
        try
        {
            keytab = Convert.FromBase64String(encoded);
        }
        catch (FormatException e)
        {
            return VaultResponse.BadRequest("invalid keytab: " + e.Message);
        }
        // A keytab file starts with 0x05 and its format version (1 or 2).
        if (keytab.Length < 2 || keytab[0] != 5 || keytab[1] is not (1 or 2))
        {
            return VaultResponse.BadRequest("invalid keytab: invalid keytab data. First byte does not equal 5 or the version is not 1 or 2");
        }
        state.Keytab = keytab;
        state.Config = new JsonObject
        {
            ["service_account"] = serviceAccount,
            ["remove_instance_name"] = body["remove_instance_name"] is JsonValue r && r.TryGetValue<bool>(out var remove) && remove,
            ["add_group_aliases"] = body["add_group_aliases"] is JsonValue a && a.TryGetValue<bool>(out var add) && add,
        };
        return VaultResponse.NoContent();
    }

    private VaultResponse KerberosLogin(VaultRequest req, Mount mount, string sub)
    {
        if (sub != "login")
        {
            return VaultResponse.UnsupportedPath();
        }
        var state = KerberosStateOf(mount);
        if (state.Keytab is null)
        {
            return VaultResponse.Error(500, "backend kerberos not configured");
        }
        if (state.Ldap is null)
        {
            return VaultResponse.Error(500, "ldap backend not configured");
        }

        var authorization = req.Http.Request.Headers.Authorization.FirstOrDefault() ?? req.Body["authorization"]?.ToString() ?? "";
        var parts = authorization.Split(' ', 2);
        if (parts.Length != 2 || parts[0] != "Negotiate")
        {
            return VaultResponse.Error(401, "authentication required");
        }
        byte[] token;
        try
        {
            token = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return VaultResponse.Error(401, "SPNEGO error: the Negotiate token is not base64");
        }

        // GSSAPI reads the keytab from a file: one private file per login, removed at once.
        var keytabFile = Path.Combine(Path.GetTempPath(), "devvault-kerberos-" + Ids.Uuid() + ".keytab");
        string? principal, error;
        try
        {
            File.WriteAllBytes(keytabFile, []);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keytabFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.WriteAllBytes(keytabFile, state.Keytab);
            (principal, error) = GssAcceptor.Accept(token, keytabFile);
        }
        finally
        {
            File.Delete(keytabFile);
        }
        if (principal is null)
        {
            // Vault answers 401 with gokrb5's reason (as a warning); DevVault gives it as the error.
            return VaultResponse.Error(401, "SPNEGO authentication failed: " + error);
        }

        var at = principal.LastIndexOf('@');
        var userName = at < 0 ? principal : principal[..at];
        var domain = at < 0 ? "" : principal[(at + 1)..];
        var username = userName;
        if (state.Flag("remove_instance_name") && username.Split('/') is { Length: > 1 } components)
        {
            username = components[0];
        }
        var upnDomain = state.Ldap["upndomain"]?.ToString() ?? "";
        if (upnDomain.Length > 0 && domain != upnDomain)
        {
            return VaultResponse.BadRequest($"identity domain of \"{domain}\" doesn't match LDAP upndomain of \"{upnDomain}\"");
        }
        if (!state.Directory.TryGetValue(username, out var groups))
        {
            return VaultResponse.Error(500, "unable to get user binddn: LDAP search for binddn 0 or not unique");
        }

        var policies = new List<string>(StringList(state.Ldap["token_policies"] ?? state.Ldap["policies"]));
        foreach (var group in groups)
        {
            if (state.Groups.TryGetValue(group, out var groupPolicies))
            {
                policies.AddRange(groupPolicies);
            }
        }
        if (!state.Entities.TryGetValue(userName, out var entity))
        {
            entity = state.Entities[userName] = Ids.Uuid();
        }

        var ttl = GoDuration.SecondsOrZero(state.Ldap["token_ttl"] ?? state.Ldap["ttl"]);
        var te = CreateToken(new TokenParams
        {
            Policies = policies.Distinct(StringComparer.Ordinal).ToList(),
            Ttl = ttl > 0 ? ttl : mount.DefaultLeaseTtl,
            MaxTtl = GoDuration.SecondsOrZero(state.Ldap["token_max_ttl"] ?? state.Ldap["max_ttl"]),
            MountMaxTtl = mount.MaxLeaseTtl,
            Renewable = false,
            Meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["user"] = userName, ["domain"] = domain },
            DisplayName = mount.Type + "-" + userName,
            Path = "auth/" + mount.Path + sub,
            EntityId = entity,
        });
        return new VaultResponse { Auth = AuthFor(te) };
    }
}
