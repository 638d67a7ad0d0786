using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private const long SystemMaxTtl = 2764800; // 768h, Vault's default max lease TTL
    private readonly List<Mount> _mounts = [];
    private readonly Dictionary<string, Policy> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Quota> _quotas = new(StringComparer.Ordinal);

    private sealed class Quota
    {
        public required string Name { get; init; }
        public required string Path { get; init; }
        public double Rate { get; init; }
        public long Interval { get; init; }
        public long BlockInterval { get; init; }
        public DateTimeOffset WindowStart { get; set; }
        public double Count { get; set; }
        public DateTimeOffset BlockedUntil { get; set; }
    }

    private void InitMounts()
    {
        _mounts.Add(new Mount { Path = "cubbyhole/", Type = "cubbyhole", Accessor = "cubbyhole_" + Ids.Hex(4), Description = "per-token private secret storage", Local = true });
        _mounts.Add(new Mount { Path = "identity/", Type = "identity", Accessor = "identity_" + Ids.Hex(4), Description = "identity store" });
        _mounts.Add(new Mount
        {
            Path = "secret/", Type = "kv", Accessor = "kv_" + Ids.Hex(4), Description = "key/value secret storage",
            Options = new() { ["version"] = _options.LeasedKv ? "1" : "2" },
        });
        _mounts.Add(new Mount { Path = "sys/", Type = "system", Accessor = "system_" + Ids.Hex(4), Description = "system endpoints used for control, policy and debugging" });
        _mounts.Add(new Mount { Path = "token/", Type = "token", Accessor = "auth_token_" + Ids.Hex(4), Description = "token based credentials", IsAuth = true });
    }

    private void InitPolicies()
    {
        _policies["default"] = Policy.Parse("default", Policy.DefaultText, out _)!;
        _policies["root"] = new Policy("root", "", []);
        _policies["response-wrapping"] = Policy.Parse("response-wrapping", """
path "cubbyhole/response" { capabilities = ["create", "read"] }
path "sys/wrapping/unwrap" { capabilities = ["update"] }
""", out _)!;
    }

    private Acl AclFor(TokenEntry te) => new(te.Policies.Select(p => _policies.GetValueOrDefault(p)).OfType<Policy>());

    private Mount? FindMount(string rel)
    {
        Mount? best = null;
        foreach (var m in _mounts)
        {
            var full = m.FullPath;
            var match = rel.StartsWith(full, StringComparison.Ordinal) || rel == full.TrimEnd('/');
            if (match && (best is null || full.Length > best.FullPath.Length))
            {
                best = m;
            }
        }
        return best;
    }

    // ---- health and seal ----------------------------------------------------------------------------------

    private VaultResponse Health(VaultRequest req)
    {
        int Code(string name, int dflt) => int.TryParse(req.Query(name), out var c) ? c : dflt;
        var body = new JsonObject
        {
            ["initialized"] = true,
            ["sealed"] = Sealed,
            ["standby"] = Sealed,
            ["performance_standby"] = false,
            ["replication_performance_mode"] = Sealed ? "unknown" : "disabled",
            ["replication_dr_mode"] = Sealed ? "unknown" : "disabled",
            ["server_time_utc"] = Ids.Unix(Now),
            ["version"] = "1.8.0-dev",
        };
        if (!Sealed)
        {
            body["cluster_name"] = ClusterName;
            body["cluster_id"] = ClusterId;
        }
        return new VaultResponse { Status = Sealed ? Code("sealedcode", 503) : Code("activecode", 200), Raw = body };
    }

    private JsonObject SealStatusBody()
    {
        var body = new JsonObject
        {
            ["type"] = "shamir",
            ["initialized"] = true,
            ["sealed"] = Sealed,
            ["t"] = 1,
            ["n"] = 1,
            ["progress"] = 0,
            ["nonce"] = "",
            ["version"] = "1.8.0-dev",
            ["migration"] = false,
        };
        if (!Sealed)
        {
            body["cluster_name"] = ClusterName;
            body["cluster_id"] = ClusterId;
        }
        body["recovery_seal"] = false;
        body["storage_type"] = "inmem";
        return body;
    }

    private VaultResponse SealStatus() => new() { Raw = SealStatusBody() };

    private static VaultResponse Leader() => new()
    {
        Raw = new JsonObject
        {
            ["ha_enabled"] = false,
            ["is_self"] = false,
            ["active_time"] = "0001-01-01T00:00:00Z",
            ["leader_address"] = "",
            ["leader_cluster_address"] = "",
            ["performance_standby"] = false,
            ["performance_standby_last_remote_wal"] = 0,
        },
    };

    private VaultResponse Unseal(VaultRequest req)
    {
        if (req.Body["reset"]?.GetValueKind() == System.Text.Json.JsonValueKind.True || !Sealed)
        {
            return SealStatus();
        }
        var key = req.Body["key"]?.ToString();
        if (string.IsNullOrEmpty(key))
        {
            return VaultResponse.BadRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
        }
        if (key != UnsealKey)
        {
            return VaultResponse.Error(500, "unable to retrieve stored keys: failed to encrypt keys for storage: cipher: message authentication failed");
        }
        Sealed = false;
        return SealStatus();
    }

    // ---- sys/internal/ui/mounts ----------------------------------------------------------------------------

    private static bool IsUiMounts(string rel) => rel == "sys/internal/ui/mounts" || rel.StartsWith("sys/internal/ui/mounts/", StringComparison.Ordinal);

    /// <summary>
    /// <c>sys/internal/ui/mounts[/path]</c>. Vault lists it among the system backend's unauthenticated paths, so no
    /// policy check runs on the sys path; the handler checks instead whether the token can reach anything under the
    /// mount (<c>hasMountAccess</c>). With a path: that mount's entry, or the "preflight" 403, also for a path no
    /// mount serves (so mounts cannot be probed). Without: every mount the token can reach.
    /// </summary>
    private VaultResponse UiMounts(VaultRequest req, string? token)
    {
        if (req.Operation != "read")
        {
            return VaultResponse.UnsupportedOperation();
        }
        var path = req.Path.Length > "sys/internal/ui/mounts/".Length ? req.Path["sys/internal/ui/mounts/".Length..] : "";
        Acl? acl = null;
        if (token is not null)
        {
            var te = LookupToken(token);
            if (te is null)
            {
                return VaultResponse.BadToken();
            }
            acl = AclFor(te);
        }
        if (path.Length == 0)
        {
            // Anonymous callers see only mounts tuned listing_visibility=unauth, which DevVault has none of.
            var secret = new JsonObject();
            var auth = new JsonObject();
            foreach (var m in _mounts.OrderBy(m => m.Path, StringComparer.Ordinal))
            {
                if (acl?.HasMountAccess(m.FullPath) == true)
                {
                    (m.IsAuth ? auth : secret)[m.Path] = MountJson(m);
                }
            }
            return VaultResponse.Ok(new JsonObject { ["auth"] = auth, ["secret"] = secret });
        }
        if (acl is null)
        {
            // Recorded (12-edges): 400, where OpenBao has since made it a 403.
            return VaultResponse.BadRequest("missing client token");
        }
        // Vault's sanitizePath: no leading slash, one trailing slash.
        var sanitized = path.TrimStart('/');
        sanitized = sanitized.EndsWith('/') ? sanitized : sanitized + "/";
        var mount = FindMount(sanitized);
        if (mount is null || !acl.HasMountAccess(mount.FullPath))
        {
            return VaultResponse.Error(403, $"preflight capability check returned 403, please ensure client's policies grant access to path \"{sanitized}\"");
        }
        var data = MountJson(mount);
        data["path"] = mount.Path;
        return VaultResponse.Ok(Sorted(data));
    }

    // ---- sys router ---------------------------------------------------------------------------------------

    private VaultResponse HandleSys(VaultRequest req, string p)
    {
        var op = req.Operation;
        var write = op is "create" or "update";
        if (p == "seal" && write)
        {
            Sealed = true;
            return VaultResponse.NoContent();
        }
        if (p == "mounts" && op == "read")
        {
            return MountList(auth: false);
        }
        if (p == "auth" && op == "read")
        {
            return MountList(auth: true);
        }
        if (p.StartsWith("mounts/", StringComparison.Ordinal) || p.StartsWith("auth/", StringComparison.Ordinal))
        {
            var auth = p.StartsWith("auth/", StringComparison.Ordinal);
            var rest = p[(auth ? 5 : 7)..];
            if (rest.EndsWith("/tune", StringComparison.Ordinal))
            {
                return MountTune(req, rest[..^5], auth);
            }
            return write ? EnableMount(req, rest, auth) : op == "delete" ? DisableMount(rest, auth) : op == "read" ? MountRead(rest, auth) : VaultResponse.UnsupportedOperation();
        }
        if (p is "policies/acl" or "policies/acl/" && op == "list")
        {
            return VaultResponse.Ok(KeysData(PolicyNames()));
        }
        if (p.StartsWith("policies/acl/", StringComparison.Ordinal))
        {
            return PolicyEndpoint(req, p["policies/acl/".Length..], legacy: false);
        }
        if (p is "policy" or "policy/" && op is "read" or "list")
        {
            var names = PolicyNames();
            return new VaultResponse
            {
                TopLevel = new JsonObject { ["keys"] = StringArray(names), ["policies"] = StringArray(names) },
                Data = new JsonObject { ["keys"] = StringArray(names), ["policies"] = StringArray(names) },
            };
        }
        if (p.StartsWith("policy/", StringComparison.Ordinal))
        {
            return PolicyEndpoint(req, p["policy/".Length..], legacy: true);
        }
        if (p is "capabilities-self" or "capabilities" or "capabilities-accessor" && write)
        {
            return Capabilities(req, p);
        }
        if (p.StartsWith("leases", StringComparison.Ordinal) || p.StartsWith("renew", StringComparison.Ordinal) || p.StartsWith("revoke", StringComparison.Ordinal))
        {
            return HandleLeases(req, p);
        }
        if (p.StartsWith("wrapping/", StringComparison.Ordinal))
        {
            return p switch
            {
                "wrapping/wrap" when write => req.WrapTtl > 0 ? VaultResponse.Ok(req.Body.DeepClone()) : VaultResponse.BadRequest("endpoint requires response wrapping to be used"),
                "wrapping/rewrap" when write => Rewrap(req),
                _ => VaultResponse.UnsupportedPath(),
            };
        }
        if (p.StartsWith("quotas/rate-limit/", StringComparison.Ordinal))
        {
            return QuotaEndpoint(req, p["quotas/rate-limit/".Length..]);
        }
        return VaultResponse.UnsupportedPath();
    }

    private List<string> PolicyNames()
    {
        var names = _policies.Keys.Where(n => n is not ("root" or "response-wrapping")).Order(StringComparer.Ordinal).ToList();
        names.Add("root");
        return names;
    }

    private VaultResponse PolicyEndpoint(VaultRequest req, string name, bool legacy)
    {
        name = name.ToLowerInvariant();
        switch (req.Operation)
        {
            case "read":
                if (!_policies.TryGetValue(name, out var pol) || name == "response-wrapping")
                {
                    return VaultResponse.NotFound();
                }
                var field = legacy ? "rules" : "policy";
                var resp = VaultResponse.Ok(new JsonObject { ["name"] = name, [field] = pol.Text });
                if (legacy)
                {
                    resp.TopLevel = new JsonObject { ["rules"] = pol.Text, ["name"] = name };
                }
                return resp;
            case "create" or "update":
                if (name == "root")
                {
                    return VaultResponse.BadRequest("cannot update \"root\" policy");
                }
                var text = (req.Body["policy"] ?? req.Body["rules"])?.ToString();
                if (string.IsNullOrEmpty(text))
                {
                    return VaultResponse.BadRequest("'policy' parameter not supplied or empty");
                }
                var parsed = Policy.Parse(name, text, out var error);
                if (parsed is null)
                {
                    return VaultResponse.BadRequest("failed to parse policy: " + error);
                }
                _policies[name] = parsed;
                return VaultResponse.NoContent();
            case "delete":
                if (name is "root" or "default")
                {
                    return VaultResponse.BadRequest($"cannot delete \"{name}\" policy");
                }
                _policies.Remove(name);
                return VaultResponse.NoContent();
            default:
                return VaultResponse.UnsupportedOperation();
        }
    }

    private VaultResponse Capabilities(VaultRequest req, string p)
    {
        var acl = req.Acl!;
        if (p == "capabilities")
        {
            var te = LookupToken(req.Body["token"]?.ToString() ?? "");
            if (te is null)
            {
                return VaultResponse.BadRequest("invalid token");
            }
            acl = AclFor(te);
        }
        else if (p == "capabilities-accessor")
        {
            var id = _accessors.GetValueOrDefault(req.Body["accessor"]?.ToString() ?? "");
            var te = id is null ? null : LookupToken(id);
            if (te is null)
            {
                return VaultResponse.BadRequest("invalid accessor");
            }
            acl = AclFor(te);
        }
        var paths = new List<string>();
        if (req.Body["paths"] is JsonArray arr)
        {
            paths.AddRange(arr.Select(x => x?.ToString() ?? ""));
        }
        else if (req.Body["paths"] is JsonValue one)
        {
            paths.AddRange(one.ToString().Split(','));
        }
        if (req.Body["path"] is JsonNode single)
        {
            paths.Add(single.ToString());
        }
        var top = new JsonObject();
        var data = new JsonObject();
        var all = new List<string>();
        foreach (var path in paths)
        {
            var names = Policy.CapabilityNames(acl.Capabilities(path)).ToList();
            top[path] = StringArray(names);
            data[path] = StringArray(names);
            all.AddRange(names);
        }
        if (paths.Count == 1)
        {
            top["capabilities"] = StringArray(all);
            data["capabilities"] = StringArray(all);
        }
        return new VaultResponse { TopLevel = top, Data = data };
    }

    // ---- mounts -------------------------------------------------------------------------------------------

    private JsonObject MountJson(Mount m)
    {
        var config = new JsonObject { ["default_lease_ttl"] = 0, ["force_no_cache"] = false, ["max_lease_ttl"] = 0 };
        if (m.Type == "system")
        {
            config["passthrough_request_headers"] = new JsonArray("Accept");
        }
        if (m.IsAuth)
        {
            config["token_type"] = "default-service";
        }
        var options = OptionsJson(m);
        return new JsonObject
        {
            ["accessor"] = m.Accessor,
            ["config"] = config,
            ["description"] = m.Description,
            ["external_entropy_access"] = false,
            ["local"] = m.Local,
            ["options"] = options,
            ["seal_wrap"] = false,
            ["type"] = m.Type,
            ["uuid"] = m.Uuid,
        };
    }

    /// <summary>A mount's <c>options</c> as Vault lists them (null when the mount has none).</summary>
    private static JsonObject? OptionsJson(Mount m)
    {
        if (m.Options is null)
        {
            return null;
        }

        var options = new JsonObject();
        foreach (var (key, value) in m.Options)
        {
            options[key] = value;
        }

        return options;
    }

    private static JsonObject Sorted(JsonObject o)
    {
        var s = new JsonObject();
        foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            o.Remove(k);
            s[k] = v;
        }
        return s;
    }

    private VaultResponse MountList(bool auth)
    {
        var top = new JsonObject();
        var data = new JsonObject();
        foreach (var m in _mounts.Where(m => m.IsAuth == auth).OrderBy(m => m.Path, StringComparer.Ordinal))
        {
            top[m.Path] = MountJson(m);
            data[m.Path] = MountJson(m);
        }
        return new VaultResponse { TopLevel = top, Data = data };
    }

    private Mount? MountAt(string path, bool auth)
    {
        var key = path.TrimEnd('/') + "/";
        return _mounts.FirstOrDefault(m => m.IsAuth == auth && m.Path == key);
    }

    private VaultResponse MountRead(string path, bool auth)
    {
        var m = MountAt(path, auth);
        return m is null ? VaultResponse.BadRequest($"No {(auth ? "auth" : "secret")} engine mount at {path.TrimEnd('/')}/") : VaultResponse.Ok(MountJson(m));
    }

    private VaultResponse EnableMount(VaultRequest req, string path, bool auth)
    {
        var key = path.TrimEnd('/') + "/";
        var full = auth ? "auth/" + key : key;
        foreach (var existing in _mounts)
        {
            var ef = existing.FullPath;
            if (ef.StartsWith(full, StringComparison.Ordinal) || full.StartsWith(ef, StringComparison.Ordinal))
            {
                return VaultResponse.BadRequest($"path is already in use at {existing.Path}");
            }
        }
        var type = req.Body["type"]?.ToString();
        if (string.IsNullOrEmpty(type))
        {
            return VaultResponse.BadRequest("backend type must be specified as a string");
        }
        Dictionary<string, string>? options = null;
        if (req.Body["options"] is JsonObject opts)
        {
            options = opts.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal);
        }
        if (type == "kv-v2")
        {
            type = "kv";
            options = new() { ["version"] = "2" };
        }
        if (type == "kv")
        {
            options ??= new() { ["version"] = "1" };
            options.TryAdd("version", "1");
        }
        if (auth)
        {
            options ??= [];
        }
        var m = new Mount
        {
            Path = key,
            Type = type,
            Accessor = (auth ? "auth_" : "") + type + "_" + Ids.Hex(4),
            Description = req.Body["description"]?.ToString() ?? "",
            Options = options,
            IsAuth = auth,
        };
        if (req.Body["config"] is JsonObject config)
        {
            if (GoDuration.TryParseSeconds(config["default_lease_ttl"], out var d, out _))
            {
                m.DefaultLeaseTtl = d;
            }
            if (GoDuration.TryParseSeconds(config["max_lease_ttl"], out var mx, out _))
            {
                m.MaxLeaseTtl = mx;
            }
        }
        _mounts.Add(m);
        return VaultResponse.NoContent();
    }

    private VaultResponse DisableMount(string path, bool auth)
    {
        var m = MountAt(path, auth);
        if (m is not null && m.Type is not ("system" or "token" or "cubbyhole" or "identity"))
        {
            _mounts.Remove(m);
            foreach (var lease in _leases.Keys.Where(k => k.StartsWith(m.FullPath, StringComparison.Ordinal)).ToList())
            {
                RevokeLease(lease);
            }
        }
        return VaultResponse.NoContent();
    }

    private VaultResponse MountTune(VaultRequest req, string path, bool auth)
    {
        var m = MountAt(path, auth);
        if (m is null)
        {
            return VaultResponse.BadRequest($"cannot fetch sysview for path \"{path}\"");
        }
        if (req.Operation is "create" or "update")
        {
            if (req.Body.ContainsKey("default_lease_ttl") && GoDuration.TryParseSeconds(req.Body["default_lease_ttl"], out var d, out _))
            {
                m.DefaultLeaseTtl = d;
            }
            if (req.Body.ContainsKey("max_lease_ttl") && GoDuration.TryParseSeconds(req.Body["max_lease_ttl"], out var mx, out _))
            {
                m.MaxLeaseTtl = mx;
            }
            if (req.Body["description"] is JsonNode desc)
            {
                m.Description = desc.ToString();
            }
            return VaultResponse.NoContent();
        }
        JsonObject Body(bool sorted)
        {
            var options = OptionsJson(m);
            var b = new JsonObject
            {
                ["description"] = m.Description,
                ["default_lease_ttl"] = m.DefaultLeaseTtl > 0 ? m.DefaultLeaseTtl : SystemMaxTtl,
                ["max_lease_ttl"] = m.MaxLeaseTtl > 0 ? m.MaxLeaseTtl : SystemMaxTtl,
                ["force_no_cache"] = false,
            };
            if (m.IsAuth)
            {
                b["token_type"] = "default-service";
            }
            b["options"] = options;
            return sorted ? Sorted(b) : b;
        }
        return new VaultResponse { TopLevel = Body(false), Data = Body(true) };
    }

    // ---- quotas -------------------------------------------------------------------------------------------

    private VaultResponse QuotaEndpoint(VaultRequest req, string name)
    {
        switch (req.Operation)
        {
            case "create" or "update":
                var interval = GoDuration.SecondsOrZero(req.Body["interval"]);
                var block = GoDuration.SecondsOrZero(req.Body["block_interval"]);
                var rate = req.Body["rate"] is JsonValue rv && rv.TryGetValue<double>(out var r) ? r : 0;
                if (rate <= 0)
                {
                    return VaultResponse.BadRequest("'rate' is invalid");
                }
                // Observed in Vault 1.8: the first request after creating a quota is already limited, so the
                // emulated bucket starts full.
                _quotas[name] = new Quota
                {
                    Name = name, Path = req.Body["path"]?.ToString() ?? "", Rate = rate, Interval = interval > 0 ? interval : 1,
                    BlockInterval = block, WindowStart = Now, Count = rate,
                };
                return VaultResponse.NoContent();
            case "read":
                if (!_quotas.TryGetValue(name, out var q))
                {
                    return VaultResponse.NotFound();
                }
                return VaultResponse.Ok(new JsonObject
                {
                    ["block_interval"] = q.BlockInterval, ["interval"] = q.Interval, ["name"] = q.Name, ["path"] = q.Path,
                    ["rate"] = q.Rate, ["type"] = "rate-limit",
                });
            case "delete":
                _quotas.Remove(name);
                return VaultResponse.NoContent();
            default:
                return VaultResponse.UnsupportedOperation();
        }
    }

    private VaultResponse? CheckQuota(string rel)
    {
        if (_quotas.Count == 0)
        {
            return null;
        }
        var now = Now;
        foreach (var q in _quotas.Values)
        {
            if (q.Path.Length > 0 && !rel.StartsWith(q.Path, StringComparison.Ordinal))
            {
                continue;
            }
            if (now < q.BlockedUntil)
            {
                return VaultResponse.Error(429, $"request path \"{rel}\": rate limit quota exceeded");
            }
            if ((now - q.WindowStart).TotalSeconds >= q.Interval)
            {
                q.WindowStart = now;
                q.Count = 0;
            }
            q.Count++;
            if (q.Count > q.Rate)
            {
                q.BlockedUntil = now.AddSeconds(q.BlockInterval);
                return VaultResponse.Error(429, $"request path \"{rel}\": rate limit quota exceeded");
            }
        }
        return null;
    }
}
