using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private const string V2Warning = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv {0}' for this operation.";

    private sealed class KvVersion
    {
        public JsonNode? Data { get; set; }
        public DateTimeOffset Created { get; init; }
        public DateTimeOffset? Deleted { get; set; }
        public bool Destroyed { get; set; }
    }

    private sealed class KvEntry
    {
        public SortedDictionary<int, KvVersion> Versions { get; } = [];
        public int Current { get; set; }
        public DateTimeOffset Created { get; init; }
        public DateTimeOffset Updated { get; set; }
        public int MaxVersions { get; set; }
        public bool CasRequired { get; set; }
        public string DeleteVersionAfter { get; set; } = "0s";
    }

    private static Dictionary<string, JsonObject> Kv1Store(Mount m) => (Dictionary<string, JsonObject>)(m.State ??= new Dictionary<string, JsonObject>(StringComparer.Ordinal));

    private static Dictionary<string, KvEntry> Kv2Store(Mount m) => (Dictionary<string, KvEntry>)(m.State ??= new Dictionary<string, KvEntry>(StringComparer.Ordinal));

    private static bool Kv2Exists(Mount m, string sub) =>
        sub.StartsWith("data/", StringComparison.Ordinal) ? Kv2Store(m).ContainsKey(sub[5..]) :
        !sub.StartsWith("metadata/", StringComparison.Ordinal) || Kv2Store(m).ContainsKey(sub[9..]);

    private VaultResponse HandleKv1(VaultRequest req, Mount mount, string key, bool leased)
    {
        var store = Kv1Store(mount);
        switch (req.Operation)
        {
            case "read":
                {
                    if (!store.TryGetValue(key, out var value))
                    {
                        return VaultResponse.NotFound();
                    }
                    var ttl = mount.DefaultLeaseTtl > 0 ? mount.DefaultLeaseTtl : SystemMaxTtl;
                    var hasTtl = value["ttl"] is JsonNode t && GoDuration.TryParseSeconds(t, out var parsed, out _) && parsed > 0;
                    if (hasTtl)
                    {
                        ttl = GoDuration.SecondsOrZero(value["ttl"]);
                    }
                    var data = Sorted((JsonObject)value.DeepClone());
                    if (leased)
                    {
                        var maxTtl = mount.MaxLeaseTtl > 0 ? mount.MaxLeaseTtl : SystemMaxTtl;
                        var lease = AddSecretLease(mount.Path + key, ttl, hasTtl, data, req.Token, maxTtl);
                        return new VaultResponse { LeaseId = lease.Id, Renewable = hasTtl, LeaseDuration = ttl, Data = data };
                    }
                    return new VaultResponse { LeaseDuration = ttl, Data = data };
                }
            case "list":
                {
                    var prefix = key.TrimEnd('/');
                    var keys = ListChildren(store.Keys, prefix.Length == 0 ? "" : prefix + "/");
                    return keys.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(keys));
                }
            case "create" or "update":
                if (req.Body.Count == 0)
                {
                    return VaultResponse.BadRequest("missing data fields");
                }
                store[key] = (JsonObject)req.Body.DeepClone();
                PublishKv(mount, 1, "write", key, key);
                return VaultResponse.NoContent();
            case "delete":
                store.Remove(key);
                PublishKv(mount, 1, "delete", key, null);
                return VaultResponse.NoContent();
            default:
                return VaultResponse.UnsupportedOperation();
        }
    }

    private static JsonObject VersionMeta(KvVersion v, int n, bool withVersion)
    {
        var o = new JsonObject
        {
            ["created_time"] = Ids.Time(v.Created),
            ["deletion_time"] = v.Deleted is { } d ? Ids.Time(d) : "",
            ["destroyed"] = v.Destroyed,
        };
        if (withVersion)
        {
            o["version"] = n;
        }
        return o;
    }

    private VaultResponse HandleKv2(VaultRequest req, Mount mount, string sub)
    {
        var store = Kv2Store(mount);
        var op = req.Operation;
        var write = op is "create" or "update";
        var slash = sub.IndexOf('/', StringComparison.Ordinal);
        var head = slash < 0 ? sub : sub[..slash];
        var key = slash < 0 ? "" : sub[(slash + 1)..];
        switch (head)
        {
            case "config":
                if (write)
                {
                    PublishKv(mount, 2, "config-write", "config", "config");
                    return VaultResponse.NoContent();
                }
                return op == "read"
                    ? VaultResponse.Ok(new JsonObject { ["cas_required"] = false, ["delete_version_after"] = "0s", ["max_versions"] = 0 })
                    : VaultResponse.UnsupportedOperation();
            case "data":
                return op switch
                {
                    "read" => Kv2Read(req, store, key),
                    "create" or "update" => Kv2Write(req, mount, store, key),
                    "delete" => Kv2SoftDelete(mount, store, key, null),
                    _ => VaultResponse.UnsupportedOperation(),
                };
            case "metadata":
                return op switch
                {
                    "read" => Kv2Metadata(store, key),
                    "list" => Kv2List(store, key),
                    "create" or "update" => Kv2MetadataWrite(req, mount, store, key),
                    "delete" => Kv2Remove(mount, store, key),
                    _ => VaultResponse.UnsupportedOperation(),
                };
            case "delete" or "undelete" or "destroy" when write:
                {
                    var versions = req.Body["versions"] is JsonArray a ? a.Select(x => x is JsonValue v && v.TryGetValue<int>(out var i) ? i : int.TryParse(x?.ToString(), out var j) ? j : 0).ToList() : [];
                    if (versions.Count == 0)
                    {
                        return VaultResponse.BadRequest("no version number provided");
                    }
                    if (head == "delete")
                    {
                        return Kv2SoftDelete(mount, store, key, versions);
                    }
                    if (store.TryGetValue(key, out var e))
                    {
                        var list = "[" + string.Join(',', versions) + "]";
                        foreach (var n in versions)
                        {
                            if (e.Versions.TryGetValue(n, out var v))
                            {
                                if (head == "undelete" && !v.Destroyed)
                                {
                                    v.Deleted = null;
                                }
                                else if (head == "destroy")
                                {
                                    v.Destroyed = true;
                                    v.Data = null;
                                }
                            }
                        }
                        if (head == "undelete")
                        {
                            PublishKv(mount, 2, "undelete", "undelete/" + key, "data/" + key, [.. Versions(e), ("undeleted_versions", list)]);
                        }
                        else
                        {
                            PublishKv(mount, 2, "destroy", "destroy/" + key, null, [.. Versions(e), ("destroyed_versions", list)]);
                        }
                    }
                    return VaultResponse.NoContent();
                }
            default:
                {
                    var verb = op switch { "read" => "get", "list" => "list", "delete" => "delete", _ => "put" };
                    return new VaultResponse { Status = 404, Warnings = [V2Warning.Replace("{0}", verb, StringComparison.Ordinal)] };
                }
        }
    }

    private VaultResponse Kv2Read(VaultRequest req, Dictionary<string, KvEntry> store, string key)
    {
        if (!store.TryGetValue(key, out var e))
        {
            return VaultResponse.NotFound();
        }
        var n = e.Current;
        if (req.Query("version") is { } vq && int.TryParse(vq, out var requested) && requested > 0)
        {
            n = requested;
        }
        if (!e.Versions.TryGetValue(n, out var v))
        {
            return VaultResponse.NotFound();
        }
        var deleted = v.Destroyed || (v.Deleted is { } d && d <= Now);
        var data = new JsonObject { ["data"] = deleted ? null : v.Data?.DeepClone(), ["metadata"] = VersionMeta(v, n, true) };
        return new VaultResponse { Status = deleted ? 404 : 200, Data = data };
    }

    /// <summary>current_version and oldest_version, as the KV plugin puts them in its events (DevVault's oldest is always 0).</summary>
    private static (string, string)[] Versions(KvEntry e) =>
        [("current_version", e.Current.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("oldest_version", "0")];

    private VaultResponse Kv2Write(VaultRequest req, Mount mount, Dictionary<string, KvEntry> store, string key)
    {
        if (!req.Body.ContainsKey("data"))
        {
            return VaultResponse.BadRequest("no data provided");
        }
        var dataNode = req.Body["data"];
        if (dataNode is not null and not JsonObject)
        {
            return VaultResponse.BadRequest("no data provided");
        }
        store.TryGetValue(key, out var e);
        var casNode = req.Body["options"]?["cas"];
        if (casNode is not null || e?.CasRequired == true)
        {
            var cas = casNode is JsonValue cv && cv.TryGetValue<int>(out var c) ? c : int.TryParse(casNode?.ToString(), out var c2) ? c2 : -1;
            if (casNode is null)
            {
                return VaultResponse.BadRequest("check-and-set parameter required for this call");
            }
            if (cas != (e?.Current ?? 0))
            {
                return VaultResponse.BadRequest("check-and-set parameter did not match the current version");
            }
        }
        var now = Now;
        if (e is null)
        {
            e = new KvEntry { Created = now };
            store[key] = e;
        }
        var n = e.Current + 1;
        e.Current = n;
        e.Updated = now;
        var v = new KvVersion { Data = dataNode?.DeepClone(), Created = now };
        e.Versions[n] = v;
        if (e.MaxVersions > 0)
        {
            while (e.Versions.Count > e.MaxVersions)
            {
                e.Versions.Remove(e.Versions.Keys.First());
            }
        }
        PublishKv(mount, 2, "data-write", "data/" + key, "data/" + key, Versions(e));
        return VaultResponse.Ok(VersionMeta(v, n, true));
    }

    private VaultResponse Kv2SoftDelete(Mount mount, Dictionary<string, KvEntry> store, string key, List<int>? versions)
    {
        if (store.TryGetValue(key, out var e))
        {
            var deleted = false;
            foreach (var n in versions ?? [e.Current])
            {
                if (e.Versions.TryGetValue(n, out var v) && v.Deleted is null && !v.Destroyed)
                {
                    v.Deleted = Now;
                    deleted = true;
                }
            }
            // As the KV plugin: DELETE data/ reports only when it deleted the live current version; delete/ whenever
            // the secret exists.
            if (versions is null && deleted)
            {
                PublishKv(mount, 2, "data-delete", "data/" + key, null, Versions(e));
            }
            else if (versions is not null)
            {
                PublishKv(mount, 2, "delete", "delete/" + key, null, [.. Versions(e), ("deleted_versions", "[" + string.Join(',', versions) + "]")]);
            }
        }
        return VaultResponse.NoContent();
    }

    private static VaultResponse Kv2Metadata(Dictionary<string, KvEntry> store, string key)
    {
        if (!store.TryGetValue(key, out var e))
        {
            return VaultResponse.NotFound();
        }
        var versions = new JsonObject();
        foreach (var (n, v) in e.Versions)
        {
            versions[n.ToString(System.Globalization.CultureInfo.InvariantCulture)] = VersionMeta(v, n, false);
        }
        return VaultResponse.Ok(new JsonObject
        {
            ["cas_required"] = e.CasRequired,
            ["created_time"] = Ids.Time(e.Created),
            ["current_version"] = e.Current,
            ["delete_version_after"] = e.DeleteVersionAfter,
            ["max_versions"] = e.MaxVersions,
            ["oldest_version"] = 0,
            ["updated_time"] = Ids.Time(e.Updated),
            ["versions"] = versions,
        });
    }

    private static VaultResponse Kv2List(Dictionary<string, KvEntry> store, string key)
    {
        var prefix = key.TrimEnd('/');
        var keys = ListChildren(store.Keys, prefix.Length == 0 ? "" : prefix + "/");
        return keys.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(keys));
    }

    private VaultResponse Kv2MetadataWrite(VaultRequest req, Mount mount, Dictionary<string, KvEntry> store, string key)
    {
        if (!store.TryGetValue(key, out var e))
        {
            e = new KvEntry { Created = Now, Updated = Now };
            store[key] = e;
        }
        if (req.Body["max_versions"] is JsonValue mv && mv.TryGetValue<int>(out var max))
        {
            e.MaxVersions = max;
        }
        if (TryBool(req.Body, "cas_required", e.CasRequired, out var cas))
        {
            e.CasRequired = cas;
        }
        if (req.Body["delete_version_after"] is JsonNode dva && GoDuration.TryParseSeconds(dva, out var secs, out _))
        {
            e.DeleteVersionAfter = GoDuration.Format(secs);
        }
        PublishKv(mount, 2, "metadata-write", "metadata/" + key, "metadata/" + key);
        return VaultResponse.NoContent();
    }

    private VaultResponse Kv2Remove(Mount mount, Dictionary<string, KvEntry> store, string key)
    {
        if (store.Remove(key))
        {
            PublishKv(mount, 2, "metadata-delete", "metadata/" + key, null);
        }
        return VaultResponse.NoContent();
    }

    internal static bool IsJsonObjectOrNull(JsonNode? n) => n is null || n.GetValueKind() is JsonValueKind.Object or JsonValueKind.Null;
}
