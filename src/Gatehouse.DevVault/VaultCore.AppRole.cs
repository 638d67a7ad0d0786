using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private sealed class AppRoleState
    {
        public SortedDictionary<string, Role> Roles { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Role
    {
        public required string Name { get; init; }
        public string RoleId { get; set; } = Ids.Uuid();
        public string EntityId { get; } = Ids.Uuid();
        public bool BindSecretId { get; set; } = true;
        public long SecretIdTtl { get; set; }
        public int SecretIdNumUses { get; set; }
        public long TokenTtl { get; set; }
        public long TokenMaxTtl { get; set; }
        public long TokenExplicitMaxTtl { get; set; }
        public long TokenPeriod { get; set; }
        public int TokenNumUses { get; set; }
        public bool TokenNoDefaultPolicy { get; set; }
        public string TokenType { get; set; } = "default";
        public List<string> TokenPolicies { get; set; } = [];
        public Dictionary<string, SecretId> SecretIds { get; } = new(StringComparer.Ordinal);
    }

    private sealed class SecretId
    {
        public required string Id { get; init; }
        public required string Accessor { get; init; }
        public Dictionary<string, string>? Metadata { get; init; }
        public DateTimeOffset Created { get; init; }
        public DateTimeOffset? Expires { get; init; }
        public long Ttl { get; init; }
        public int NumUses { get; set; }
    }

    private static AppRoleState AppRoles(Mount m) => (AppRoleState)(m.State ??= new AppRoleState());

    private bool TryLogin(VaultRequest req, out VaultResponse? resp)
    {
        resp = null;
        var rel = req.Path;
        if (!rel.StartsWith("auth/", StringComparison.Ordinal) || req.Operation is not ("update" or "create"))
        {
            return false;
        }
        var mount = FindMount(rel);
        if (mount is null || !mount.IsAuth)
        {
            return false;
        }
        var sub = rel[mount.FullPath.Length..];
        if (sub != "login" && !sub.StartsWith("login/", StringComparison.Ordinal))
        {
            return false;
        }
        resp = mount.Type switch
        {
            "approle" => AppRoleLogin(req, mount),
            "jwt" or "oidc" or "kubernetes" => JwtLogin(req, mount),
            "cert" => CertLogin(req, mount),
            "ldap" => LdapLogin(req, mount, sub),
            "kerberos" => KerberosLogin(req, mount, sub),
            "azure" => AzureLogin(req, mount),
            "aws" => AwsLogin(req, mount),
            "gcp" => GcpLogin(req, mount),
            "oci" => OciLogin(req, mount, sub),
            "cf" or "pcf" => CfLogin(req, mount),
            "alicloud" => AlicloudLogin(req, mount),
            _ => null,
        };
        return resp is not null;
    }

    private VaultResponse AppRoleLogin(VaultRequest req, Mount mount)
    {
        var roleId = req.Body["role_id"]?.ToString();
        if (string.IsNullOrEmpty(roleId))
        {
            return VaultResponse.BadRequest("missing role_id");
        }
        var role = AppRoles(mount).Roles.Values.FirstOrDefault(r => r.RoleId == roleId);
        if (role is null)
        {
            return VaultResponse.BadRequest("invalid role ID");
        }
        Dictionary<string, string> meta = new(StringComparer.Ordinal) { ["role_name"] = role.Name };
        if (role.BindSecretId)
        {
            var secretId = req.Body["secret_id"]?.ToString();
            if (string.IsNullOrEmpty(secretId))
            {
                return VaultResponse.BadRequest("missing secret_id");
            }
            if (!role.SecretIds.TryGetValue(secretId, out var sid) || (sid.Expires is { } exp && Now >= exp))
            {
                role.SecretIds.Remove(secretId ?? "");
                return VaultResponse.BadRequest("invalid secret id");
            }
            if (sid.NumUses > 0 && --sid.NumUses == 0)
            {
                role.SecretIds.Remove(secretId);
            }
            if (sid.Metadata is not null)
            {
                foreach (var (k, v) in sid.Metadata)
                {
                    meta[k] = v;
                }
            }
        }
        var te = CreateToken(new TokenParams
        {
            Policies = role.TokenPolicies,
            NoDefaultPolicy = role.TokenNoDefaultPolicy,
            Ttl = role.TokenTtl > 0 ? role.TokenTtl : mount.DefaultLeaseTtl,
            MaxTtl = role.TokenMaxTtl,
            MountMaxTtl = mount.MaxLeaseTtl,
            ExplicitMaxTtl = role.TokenExplicitMaxTtl,
            Period = role.TokenPeriod,
            NumUses = role.TokenNumUses,
            Meta = meta,
            DisplayName = "approle",
            Path = "auth/" + mount.Path + "login",
            EntityId = role.EntityId,
            Batch = role.TokenType == "batch",
        });
        return new VaultResponse { Auth = AuthFor(te) };
    }

    private VaultResponse HandleAppRole(VaultRequest req, Mount mount, string sub)
    {
        var state = AppRoles(mount);
        var op = req.Operation;
        var write = op is "create" or "update";
        if (sub is "role" or "role/")
        {
            if (op != "list")
            {
                return VaultResponse.UnsupportedOperation();
            }
            return state.Roles.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(state.Roles.Keys));
        }
        if (!sub.StartsWith("role/", StringComparison.Ordinal))
        {
            return VaultResponse.UnsupportedPath();
        }
        var parts = sub[5..].Split('/', 2);
        var name = parts[0];
        var rest = parts.Length > 1 ? parts[1] : "";
        state.Roles.TryGetValue(name, out var role);
        if (rest.Length == 0)
        {
            switch (op)
            {
                case "read":
                    return role is null ? VaultResponse.NotFound() : VaultResponse.Ok(RoleJson(role));
                case "delete":
                    state.Roles.Remove(name);
                    return VaultResponse.NoContent();
                case "create" or "update":
                    role ??= new Role { Name = name };
                    var error = ApplyRole(role, req.Body);
                    if (error is not null)
                    {
                        return error;
                    }
                    state.Roles[name] = role;
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        if (role is null)
        {
            return VaultResponse.BadRequest($"role \"{name}\" does not exist");
        }
        var now = Now;
        switch (rest)
        {
            case "role-id" when op == "read":
                return VaultResponse.Ok(new JsonObject { ["role_id"] = role.RoleId });
            case "role-id" when write:
                role.RoleId = req.Body["role_id"]?.ToString() ?? role.RoleId;
                return VaultResponse.NoContent();
            case "secret-id" or "secret-id/" when op == "list":
                return role.SecretIds.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(role.SecretIds.Values.Select(s => s.Accessor).Order(StringComparer.Ordinal)));
            case "secret-id" or "custom-secret-id" when write:
                {
                    Dictionary<string, string>? meta = null;
                    if (req.Body["metadata"] is JsonNode mnode)
                    {
                        try
                        {
                            meta = StringMap(mnode is JsonObject ? mnode : JsonNode.Parse(mnode.ToString()));
                        }
                        catch (System.Text.Json.JsonException)
                        {
                            return VaultResponse.BadRequest("failed to parse metadata: invalid JSON");
                        }
                    }
                    if (!GoDuration.TryParseSeconds(req.Body["ttl"], out var ttl, out var err))
                    {
                        return VaultResponse.BadRequest(err);
                    }
                    if (!TryInt(req.Body, "num_uses", out var uses, out var intErr))
                    {
                        return intErr!;
                    }
                    ttl = ttl > 0 ? ttl : role.SecretIdTtl;
                    var sid = new SecretId
                    {
                        Id = rest == "custom-secret-id" ? req.Body["secret_id"]?.ToString() ?? Ids.Uuid() : Ids.Uuid(),
                        Accessor = Ids.Uuid(),
                        Metadata = meta,
                        Created = now,
                        Expires = ttl > 0 ? now.AddSeconds(ttl) : null,
                        Ttl = ttl,
                        NumUses = uses > 0 ? uses : role.SecretIdNumUses,
                    };
                    role.SecretIds[sid.Id] = sid;
                    return VaultResponse.Ok(new JsonObject { ["secret_id"] = sid.Id, ["secret_id_accessor"] = sid.Accessor, ["secret_id_ttl"] = sid.Ttl });
                }
            case "secret-id/lookup" or "secret-id-accessor/lookup" when write:
                {
                    var sid = rest == "secret-id/lookup"
                        ? role.SecretIds.GetValueOrDefault(req.Body["secret_id"]?.ToString() ?? "")
                        : role.SecretIds.Values.FirstOrDefault(s => s.Accessor == req.Body["secret_id_accessor"]?.ToString());
                    if (sid is null || (sid.Expires is { } exp && now >= exp))
                    {
                        return rest == "secret-id/lookup" ? VaultResponse.NoContent() : VaultResponse.BadRequest("failed to find accessor entry for secret_id_accessor");
                    }
                    return VaultResponse.Ok(new JsonObject
                    {
                        ["cidr_list"] = new JsonArray(),
                        ["creation_time"] = Ids.Time(sid.Created),
                        ["expiration_time"] = sid.Expires is { } e ? Ids.Time(e) : "0001-01-01T00:00:00Z",
                        ["last_updated_time"] = Ids.Time(sid.Created),
                        ["metadata"] = StringMapNode(sid.Metadata) ?? new JsonObject(),
                        ["secret_id_accessor"] = sid.Accessor,
                        ["secret_id_num_uses"] = sid.NumUses,
                        ["secret_id_ttl"] = sid.Ttl,
                        ["token_bound_cidrs"] = new JsonArray(),
                    });
                }
            case "secret-id/destroy" or "secret-id-accessor/destroy" when write || op == "delete":
                {
                    var sid = rest == "secret-id/destroy"
                        ? role.SecretIds.GetValueOrDefault(req.Body["secret_id"]?.ToString() ?? "")
                        : role.SecretIds.Values.FirstOrDefault(s => s.Accessor == req.Body["secret_id_accessor"]?.ToString());
                    if (sid is not null)
                    {
                        role.SecretIds.Remove(sid.Id);
                    }
                    return VaultResponse.NoContent();
                }
            default:
                return VaultResponse.UnsupportedPath();
        }
    }

    private static VaultResponse? ApplyRole(Role role, JsonObject b)
    {
        long Dur(string field, long current, ref string? error)
        {
            if (!b.ContainsKey(field))
            {
                return current;
            }
            if (!GoDuration.TryParseSeconds(b[field], out var s, out var e))
            {
                error ??= e;
            }
            return s;
        }
        string? err = null;
        role.SecretIdTtl = Dur("secret_id_ttl", role.SecretIdTtl, ref err);
        role.TokenTtl = Dur("token_ttl", role.TokenTtl, ref err);
        role.TokenMaxTtl = Dur("token_max_ttl", role.TokenMaxTtl, ref err);
        role.TokenExplicitMaxTtl = Dur("token_explicit_max_ttl", role.TokenExplicitMaxTtl, ref err);
        role.TokenPeriod = Dur("token_period", role.TokenPeriod, ref err);
        role.TokenTtl = b.ContainsKey("token_ttl") ? role.TokenTtl : Dur("ttl", role.TokenTtl, ref err);
        role.TokenMaxTtl = b.ContainsKey("token_max_ttl") ? role.TokenMaxTtl : Dur("max_ttl", role.TokenMaxTtl, ref err);
        if (err is not null)
        {
            return VaultResponse.BadRequest(err);
        }
        if (!TryInt(b, "secret_id_num_uses", out var sn, out var e1))
        {
            return e1;
        }
        if (b.ContainsKey("secret_id_num_uses"))
        {
            role.SecretIdNumUses = sn;
        }
        if (!TryInt(b, "token_num_uses", out var tn, out var e2))
        {
            return e2;
        }
        if (b.ContainsKey("token_num_uses"))
        {
            role.TokenNumUses = tn;
        }
        if (TryBool(b, "bind_secret_id", role.BindSecretId, out var bind))
        {
            role.BindSecretId = bind;
        }
        if (TryBool(b, "token_no_default_policy", role.TokenNoDefaultPolicy, out var nd))
        {
            role.TokenNoDefaultPolicy = nd;
        }
        if ((b["token_policies"] ?? b["policies"]) is { } pol)
        {
            role.TokenPolicies = StringList(pol);
        }
        if (b["token_type"] is JsonNode tt)
        {
            role.TokenType = tt.ToString();
        }
        if (b["role_id"] is JsonNode rid)
        {
            role.RoleId = rid.ToString();
        }
        return null;
    }

    private static JsonObject RoleJson(Role r) => new()
    {
        ["bind_secret_id"] = r.BindSecretId,
        ["local_secret_ids"] = false,
        ["secret_id_bound_cidrs"] = null,
        ["secret_id_num_uses"] = r.SecretIdNumUses,
        ["secret_id_ttl"] = r.SecretIdTtl,
        ["token_bound_cidrs"] = new JsonArray(),
        ["token_explicit_max_ttl"] = r.TokenExplicitMaxTtl,
        ["token_max_ttl"] = r.TokenMaxTtl,
        ["token_no_default_policy"] = r.TokenNoDefaultPolicy,
        ["token_num_uses"] = r.TokenNumUses,
        ["token_period"] = r.TokenPeriod,
        ["token_policies"] = StringArray(r.TokenPolicies),
        ["token_ttl"] = r.TokenTtl,
        ["token_type"] = r.TokenType,
    };
}
