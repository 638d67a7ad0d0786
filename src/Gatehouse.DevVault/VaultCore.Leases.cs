using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    private Lease? LiveLease(string id)
    {
        if (!_leases.TryGetValue(id, out var l))
        {
            return null;
        }
        if (l.ExpireTime is { } e && Now >= e)
        {
            RevokeLease(id);
            return null;
        }
        return l;
    }

    private void RevokeLease(string id)
    {
        if (_leases.Remove(id, out var l) && l.TokenId is not null)
        {
            RevokeToken(l.TokenId, orphanChildren: false);
        }
    }

    private VaultResponse HandleLeases(VaultRequest req, string p)
    {
        var op = req.Operation;
        var write = op is "create" or "update";
        string? Tail(string prefix) => p.StartsWith(prefix, StringComparison.Ordinal) ? p[prefix.Length..] : null;
        string? BodyLease() => req.Body["lease_id"]?.ToString();

        if (op == "list" && Tail("leases/lookup/") is { } listPrefix)
        {
            var keys = ListChildren(_leases.Values.Where(l => l.ExpireTime is not { } e || Now < e).Select(l => l.Id), listPrefix.TrimEnd('/') is { Length: > 0 } lp ? lp + "/" : "");
            return keys.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(keys));
        }
        if (p is "leases/lookup" && write)
        {
            var id = BodyLease();
            if (string.IsNullOrEmpty(id))
            {
                return VaultResponse.BadRequest("lease_id must be specified");
            }
            var l = LiveLease(id);
            if (l is null)
            {
                return VaultResponse.BadRequest("invalid lease");
            }
            return VaultResponse.Ok(new JsonObject
            {
                ["expire_time"] = l.ExpireTime is { } e ? Ids.Time(e) : null,
                ["id"] = l.Id,
                ["issue_time"] = Ids.Time(l.IssueTime),
                ["last_renewal"] = l.LastRenewal is { } r ? Ids.Time(r) : null,
                ["renewable"] = l.Renewable,
                ["ttl"] = l.ExpireTime is { } x ? Math.Max(0, (long)(x - Now).TotalSeconds) : 0,
            });
        }
        if (write && (p is "leases/renew" or "renew" || Tail("leases/renew/") is not null || Tail("renew/") is not null))
        {
            var id = Tail("leases/renew/") ?? Tail("renew/") ?? BodyLease();
            return RenewLease(req, id);
        }
        if (write && (p is "leases/revoke" or "revoke" || Tail("leases/revoke/") is not null || Tail("revoke/") is not null))
        {
            var id = Tail("leases/revoke/") ?? Tail("revoke/") ?? BodyLease();
            if (string.IsNullOrEmpty(id))
            {
                return VaultResponse.BadRequest("lease_id must be specified");
            }
            RevokeLease(id);
            return VaultResponse.NoContent();
        }
        if (write && (Tail("leases/revoke-prefix/") ?? Tail("leases/revoke-force/") ?? Tail("revoke-prefix/") ?? Tail("revoke-force/")) is { } prefix)
        {
            foreach (var id in _leases.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                RevokeLease(id);
            }
            return VaultResponse.NoContent();
        }
        if (p == "leases/tidy" && write)
        {
            return new VaultResponse
            {
                Status = 202,
                Warnings = ["Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."],
            };
        }
        if (p == "leases/count" && op == "read")
        {
            return VaultResponse.Ok(new JsonObject { ["counts"] = new JsonObject(), ["lease_count"] = 0 });
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse RenewLease(VaultRequest req, string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return VaultResponse.BadRequest("lease_id must be specified");
        }
        var l = LiveLease(id);
        if (l is null)
        {
            return VaultResponse.BadRequest("lease not found");
        }
        if (l.TokenId is not null && l.Renewable)
        {
            return VaultResponse.BadRequest("tokens cannot be renewed through this endpoint");
        }
        if (!l.Renewable)
        {
            return VaultResponse.BadRequest("lease is not renewable");
        }
        if (!GoDuration.TryParseSeconds(req.Body["increment"], out var increment, out var err))
        {
            return VaultResponse.BadRequest(err);
        }
        var now = Now;
        var ttl = increment > 0 ? increment : l.OriginalTtl;
        List<string>? warnings = null;
        if (l.MaxExpire is { } max)
        {
            var remaining = (long)(max - now).TotalSeconds;
            if (ttl > remaining)
            {
                warnings = [$"TTL of \"{GoDuration.Format(ttl)}\" exceeded the effective max_ttl of \"{GoDuration.Format(remaining)}\"; TTL value is capped accordingly"];
                ttl = remaining;
            }
        }
        l.ExpireTime = now.AddSeconds(ttl);
        l.LastRenewal = now;
        return new VaultResponse { LeaseId = l.Id, Renewable = true, LeaseDuration = ttl, Data = l.Data?.DeepClone(), Warnings = warnings };
    }

    /// <summary>Registers a secret lease (leased KV) owned by the requesting token.</summary>
    private Lease AddSecretLease(string path, long ttl, bool renewable, JsonNode? data, TokenEntry? owner, long maxTtl)
    {
        var now = Now;
        var id = path + "/" + Ids.Random(24);
        var lease = new Lease
        {
            Id = id, IssueTime = now, ExpireTime = now.AddSeconds(ttl), Renewable = renewable, OriginalTtl = ttl,
            MaxExpire = now.AddSeconds(maxTtl), Data = data?.DeepClone(), OwnerToken = owner?.Id,
        };
        _leases[id] = lease;
        if (owner is not null && owner.Id != RootToken)
        {
            (owner.SecretLeases ??= []).Add(id);
        }
        return lease;
    }
}
