using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private readonly Dictionary<string, TokenEntry> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _accessors = new(StringComparer.Ordinal);

    public string RootToken { get; private set; } = "root";

    private void InitRootToken(string id)
    {
        var now = Now;
        var te = new TokenEntry
        {
            Id = id, Accessor = Ids.Random(24), Policies = ["root"], CreationTime = now, IssueTime = now, Orphan = true,
        };
        RootToken = id;
        _tokens[id] = te;
        _accessors[te.Accessor] = id;
        // The dev root token's lease: a 40-hex key (Vault uses a SHA1 of the token there).
        var leaseId = "auth/token/create/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..40];
        te.LeaseId = leaseId;
        _leases[leaseId] = new Lease { Id = leaseId, IssueTime = now, TokenId = id };
    }

    /// <summary>Finds a live token; an expired one is revoked on sight.</summary>
    private TokenEntry? LookupToken(string id)
    {
        if (id.StartsWith("eyJ", StringComparison.Ordinal))
        {
            id = JwtWrappingTokenId(id) ?? id;
        }
        if (!_tokens.TryGetValue(id, out var te))
        {
            return null;
        }
        if (te.ExpireTime is { } exp && Now >= exp)
        {
            RevokeToken(te.Id, orphanChildren: false);
            return null;
        }
        return te;
    }

    internal sealed record TokenParams
    {
        public List<string> Policies { get; init; } = [];
        public bool NoDefaultPolicy { get; init; }
        public long Ttl { get; init; }
        public long MaxTtl { get; init; }
        public long ExplicitMaxTtl { get; init; }
        public long Period { get; init; }
        public int NumUses { get; init; }
        public bool Renewable { get; init; } = true;
        public Dictionary<string, string>? Meta { get; init; }
        public string DisplayName { get; init; } = "token";
        public string Path { get; init; } = "auth/token/create";
        public string? Parent { get; init; }
        public bool Batch { get; init; }
        public string EntityId { get; init; } = "";
        public string? Id { get; init; }
        public long MountMaxTtl { get; init; }
    }

    private TokenEntry CreateToken(TokenParams p)
    {
        var now = Now;
        var policies = new SortedSet<string>(p.Policies.Where(x => x.Length > 0), StringComparer.Ordinal);
        if (!p.NoDefaultPolicy && !policies.Contains("root"))
        {
            policies.Add("default");
        }
        var isRoot = policies.Contains("root");
        // TTL math: an explicit ttl, else the period, else the mount/system default; capped by max TTLs.
        var maxTtl = p.MaxTtl > 0 ? p.MaxTtl : (p.MountMaxTtl > 0 ? p.MountMaxTtl : SystemMaxTtl);
        if (p.ExplicitMaxTtl > 0 && p.ExplicitMaxTtl < maxTtl)
        {
            maxTtl = p.ExplicitMaxTtl;
        }
        // A root-policy token created without a TTL never expires, like the dev root token.
        long ttl = p.Ttl > 0 ? p.Ttl : p.Period > 0 ? p.Period : isRoot ? 0 : (p.MountMaxTtl > 0 ? Math.Min(p.MountMaxTtl, SystemMaxTtl) : SystemMaxTtl);
        if (p.Period == 0 && ttl > maxTtl)
        {
            ttl = maxTtl;
        }
        var te = new TokenEntry
        {
            Id = p.Id ?? (p.Batch ? Ids.BatchToken() : Ids.ServiceToken()),
            Accessor = p.Batch ? "" : Ids.Random(24),
            Policies = [.. policies],
            Meta = p.Meta is { Count: > 0 } ? p.Meta : null,
            DisplayName = p.DisplayName,
            CreationTime = now,
            IssueTime = now,
            CreationTtl = ttl,
            Ttl = ttl,
            ExpireTime = ttl > 0 ? now.AddSeconds(ttl) : null,
            MaxExpire = ttl > 0 && p.Period == 0 ? now.AddSeconds(maxTtl) : null,
            ExplicitMaxTtl = p.ExplicitMaxTtl,
            Period = p.Period,
            NumUses = p.NumUses,
            UsesLimited = p.NumUses > 0,
            Renewable = !p.Batch && p.Renewable && ttl > 0,
            Orphan = p.Parent is null,
            Parent = p.Parent,
            Path = p.Path,
            Type = p.Batch ? "batch" : "service",
            EntityId = p.EntityId,
        };
        _tokens[te.Id] = te;
        if (p.Parent is not null && _tokens.TryGetValue(p.Parent, out var parent))
        {
            parent.Children.Add(te.Id);
        }
        if (!p.Batch)
        {
            _accessors[te.Accessor] = te.Id;
            var leaseId = te.Path + "/" + Ids.TokenLeaseKey(te.Id);
            te.LeaseId = leaseId;
            _leases[leaseId] = new Lease { Id = leaseId, IssueTime = now, ExpireTime = te.ExpireTime, Renewable = te.Renewable, TokenId = te.Id, OriginalTtl = ttl };
        }
        return te;
    }

    private void RevokeToken(string id, bool orphanChildren)
    {
        if (!_tokens.Remove(id, out var te))
        {
            return;
        }
        if (te.Accessor.Length > 0)
        {
            _accessors.Remove(te.Accessor);
        }
        if (te.LeaseId is not null)
        {
            _leases.Remove(te.LeaseId);
        }
        if (te.Parent is not null && _tokens.TryGetValue(te.Parent, out var parent))
        {
            parent.Children.Remove(id);
        }
        if (te.SecretLeases is not null)
        {
            foreach (var l in te.SecretLeases)
            {
                _leases.Remove(l);
            }
        }
        foreach (var child in te.Children.ToList())
        {
            if (orphanChildren)
            {
                if (_tokens.TryGetValue(child, out var c))
                {
                    c.Parent = null;
                    c.Orphan = true;
                }
            }
            else
            {
                RevokeToken(child, orphanChildren: false);
            }
        }
    }

    private AuthBlock AuthFor(TokenEntry te, long? leaseDuration = null, bool hideToken = false) => new()
    {
        ClientToken = hideToken ? "" : te.Id,
        Accessor = te.Accessor,
        Policies = te.Policies,
        Metadata = te.Meta,
        LeaseDuration = leaseDuration ?? te.Ttl,
        Renewable = te.Renewable,
        EntityId = te.EntityId,
        TokenType = te.Type,
        Orphan = te.Orphan,
    };

    private JsonObject TokenLookupData(TokenEntry te, bool hideId)
    {
        var now = Now;
        var d = new JsonObject
        {
            ["accessor"] = te.Accessor,
            ["creation_time"] = Ids.Unix(te.CreationTime),
            ["creation_ttl"] = te.CreationTtl,
            ["display_name"] = te.DisplayName,
            ["entity_id"] = te.EntityId,
            ["expire_time"] = te.ExpireTime is { } e ? (te.Type == "batch" ? e.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : Ids.Time(e)) : null,
            ["explicit_max_ttl"] = te.ExplicitMaxTtl,
            ["id"] = hideId ? "" : te.Id,
            ["issue_time"] = te.Type == "batch" ? te.IssueTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : Ids.Time(te.IssueTime),
        };
        if (te.LastRenewal is { } lr)
        {
            d["last_renewal"] = Ids.Time(lr);
            d["last_renewal_time"] = Ids.Unix(lr);
        }
        d["meta"] = StringMapNode(te.Meta);
        d["num_uses"] = te.UsesLimited && te.NumUses <= 0 ? -1 : te.NumUses;
        d["orphan"] = te.Orphan;
        d["path"] = te.Path;
        if (te.Period > 0)
        {
            d["period"] = te.Period;
        }
        d["policies"] = StringArray(te.Policies);
        d["renewable"] = te.Renewable;
        d["ttl"] = te.ExpireTime is { } x ? Math.Max(0, (long)(x - now).TotalSeconds) : 0;
        d["type"] = te.Type;
        return d;
    }

    private VaultResponse HandleToken(VaultRequest req, string sub)
    {
        var op = req.Operation;
        var write = op is "create" or "update";
        var caller = req.Token!;
        switch (sub)
        {
            case "create" or "create-orphan" when write:
                return TokenCreate(req, orphan: sub == "create-orphan");
            case "lookup-self" when op == "read" || write:
                return VaultResponse.Ok(TokenLookupData(caller, false));
            case "lookup" when op == "read" || write:
                {
                    var id = req.Body["token"]?.ToString() ?? req.Query("token");
                    var te = string.IsNullOrEmpty(id) ? caller : LookupToken(id);
                    return te is null ? VaultResponse.Error(403, "bad token") : VaultResponse.Ok(TokenLookupData(te, false));
                }
            case "lookup-accessor" when write:
                {
                    var te = ByAccessor(req.Body["accessor"]?.ToString());
                    return te is null ? VaultResponse.BadRequest("1 error occurred:\n\t* invalid accessor\n\n") : VaultResponse.Ok(TokenLookupData(te, true));
                }
            case "renew-self" when write:
                return Renew(req, caller, hide: false);
            case "renew" when write:
                {
                    var te = LookupToken(req.Body["token"]?.ToString() ?? "");
                    return te is null ? VaultResponse.BadRequest("invalid token") : Renew(req, te, hide: false);
                }
            case "renew-accessor" when write:
                {
                    var te = ByAccessor(req.Body["accessor"]?.ToString());
                    return te is null ? VaultResponse.BadRequest("invalid accessor") : Renew(req, te, hide: true);
                }
            case "revoke-self" when write:
                RevokeToken(caller.Id, orphanChildren: false);
                return VaultResponse.NoContent();
            case "revoke" or "revoke-orphan" when write:
                {
                    var id = req.Body["token"]?.ToString();
                    if (string.IsNullOrEmpty(id))
                    {
                        return VaultResponse.BadRequest("missing token");
                    }
                    if (_tokens.ContainsKey(id))
                    {
                        RevokeToken(id, orphanChildren: sub == "revoke-orphan");
                    }
                    return VaultResponse.NoContent();
                }
            case "revoke-accessor" when write:
                {
                    var te = ByAccessor(req.Body["accessor"]?.ToString());
                    if (te is not null)
                    {
                        RevokeToken(te.Id, orphanChildren: false);
                    }
                    return VaultResponse.NoContent();
                }
            case "accessors" or "accessors/" when op == "list":
                return VaultResponse.Ok(KeysData(_tokens.Values.Where(t => t.Accessor.Length > 0 && !t.IsWrapping && LiveToken(t)).Select(t => t.Accessor).ToList()));
            case "create" or "create-orphan" or "lookup-accessor" or "renew-self" or "renew" or "renew-accessor" or "revoke-self"
                or "revoke" or "revoke-orphan" or "revoke-accessor" or "lookup" or "lookup-self":
                return op == "list" ? VaultResponse.UnsupportedPath() : VaultResponse.UnsupportedOperation();
            default:
                return VaultResponse.UnsupportedPath();
        }
    }

    private bool LiveToken(TokenEntry t) => t.ExpireTime is not { } e || Now < e;

    private TokenEntry? ByAccessor(string? accessor)
    {
        if (string.IsNullOrEmpty(accessor) || !_accessors.TryGetValue(accessor, out var id))
        {
            return null;
        }
        return LookupToken(id);
    }

    private static bool TryInt(JsonObject body, string field, out int value, out VaultResponse? error)
    {
        value = 0;
        error = null;
        var node = body[field];
        if (node is null)
        {
            return true;
        }
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out value))
            {
                return true;
            }
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                value = (int)v.GetValue<double>();
                return true;
            }
            if (v.GetValueKind() == JsonValueKind.String && int.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            {
                return true;
            }
        }
        var text = node is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>() : node.ToJsonString();
        error = VaultResponse.BadRequest($"Error decoding request: 1 error(s) decoding:\n\n* cannot parse '{field}' as int: strconv.ParseInt: parsing \"{text}\": invalid syntax");
        return false;
    }

    private static bool TryBool(JsonObject body, string field, bool dflt, out bool value)
    {
        value = dflt;
        var node = body[field];
        if (node is null)
        {
            return true;
        }
        switch (node.GetValueKind())
        {
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                value = false;
                return true;
            case JsonValueKind.String when bool.TryParse(node.GetValue<string>(), out var b):
                value = b;
                return true;
            default:
                return false;
        }
    }

    internal static List<string> StringList(JsonNode? node)
    {
        if (node is JsonArray a)
        {
            return a.Select(x => x?.ToString().Trim() ?? "").Where(x => x.Length > 0).ToList();
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        return [];
    }

    private static Dictionary<string, string>? StringMap(JsonNode? node)
    {
        if (node is not JsonObject o || o.Count == 0)
        {
            return null;
        }
        return o.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal);
    }

    private VaultResponse TokenCreate(VaultRequest req, bool orphan)
    {
        var b = req.Body;
        var caller = req.Token!;
        if (!GoDuration.TryParseSeconds(b["ttl"] ?? b["lease"], out var ttl, out var e1))
        {
            return VaultResponse.BadRequest(e1);
        }
        if (!GoDuration.TryParseSeconds(b["explicit_max_ttl"], out var explicitMax, out var e2))
        {
            return VaultResponse.BadRequest(e2);
        }
        if (!GoDuration.TryParseSeconds(b["period"], out var period, out var e3))
        {
            return VaultResponse.BadRequest(e3);
        }
        if (!TryInt(b, "num_uses", out var numUses, out var intError))
        {
            return intError!;
        }
        if (numUses < 0)
        {
            return VaultResponse.BadRequest("number of uses cannot be negative");
        }
        TryBool(b, "renewable", true, out var renewable);
        TryBool(b, "no_parent", false, out var noParent);
        TryBool(b, "no_default_policy", false, out var noDefault);
        var type = b["type"]?.ToString() ?? "service";
        if (type is not ("service" or "batch" or "default-service" or "default"))
        {
            return VaultResponse.BadRequest($"invalid 'token_type' value \"{type}\"");
        }
        var callerIsRoot = caller.Policies.Contains("root");
        var policies = StringList(b["policies"]);
        if (policies.Count == 0)
        {
            policies = caller.Policies.Where(p => !noDefault || p != "default").ToList();
        }
        else if (!callerIsRoot && policies.Any(p => p != "default" && !caller.Policies.Contains(p)))
        {
            return VaultResponse.BadRequest("child policies must be subset of parent");
        }
        var displayName = b["display_name"]?.ToString();
        var te = CreateToken(new TokenParams
        {
            Policies = policies,
            NoDefaultPolicy = noDefault,
            Ttl = ttl,
            ExplicitMaxTtl = explicitMax,
            Period = period,
            NumUses = numUses,
            Renewable = renewable,
            Meta = StringMap(b["meta"]),
            DisplayName = string.IsNullOrEmpty(displayName) ? "token" : "token-" + displayName,
            Path = orphan ? "auth/token/create-orphan" : "auth/token/create",
            Parent = orphan || noParent ? null : caller.Id,
            Batch = type == "batch",
            Id = callerIsRoot ? b["id"]?.ToString() : null,
        });
        return new VaultResponse { RequestId = req.RequestId, Auth = AuthFor(te) };
    }

    private VaultResponse Renew(VaultRequest req, TokenEntry te, bool hide)
    {
        if (te.Type == "batch")
        {
            return VaultResponse.BadRequest("batch tokens cannot be renewed");
        }
        if (!te.Renewable)
        {
            return VaultResponse.BadRequest("lease is not renewable");
        }
        if (!GoDuration.TryParseSeconds(req.Body["increment"], out var increment, out var err))
        {
            return VaultResponse.BadRequest(err);
        }
        var now = Now;
        var ttl = te.Period > 0 ? te.Period : increment > 0 ? increment : te.Ttl;
        List<string>? warnings = null;
        if (te.MaxExpire is { } max)
        {
            var remaining = (long)(max - now).TotalSeconds;
            if (ttl > remaining)
            {
                warnings = [$"TTL of \"{GoDuration.Format(ttl)}\" exceeded the effective max_ttl of \"{GoDuration.Format(remaining)}\"; TTL value is capped accordingly"];
                ttl = remaining;
            }
        }
        te.Ttl = ttl;
        te.ExpireTime = now.AddSeconds(ttl);
        te.LastRenewal = now;
        if (te.LeaseId is not null && _leases.TryGetValue(te.LeaseId, out var lease))
        {
            lease.ExpireTime = te.ExpireTime;
            lease.LastRenewal = now;
        }
        return new VaultResponse { RequestId = req.RequestId, Auth = AuthFor(te, ttl, hide), Warnings = warnings };
    }
}
