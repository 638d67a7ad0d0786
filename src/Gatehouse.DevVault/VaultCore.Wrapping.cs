using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

internal sealed partial class VaultCore
{
    private ECDsa? _wrapJwtKey;

    /// <summary>Wraps a successful response with a body when the request asked for it (404s and 204s pass through).</summary>
    private VaultResponse MaybeWrap(VaultRequest req, VaultResponse resp)
    {
        if (resp.IsEnvelope && resp.Wrap is null && resp.RequestId.Length == 0)
        {
            resp.RequestId = req.RequestId;
        }
        if (req.WrapTtl <= 0 || resp.Status != 200 || !resp.IsEnvelope || resp.Wrap is not null)
        {
            return resp;
        }
        var creationPath = req.Path;
        return Wrap(req.WrapTtl, creationPath, Serialize(resp), resp.Auth?.Accessor, req.WrapFormat == "jwt");
    }

    private VaultResponse Wrap(long ttl, string creationPath, byte[] payload, string? wrappedAccessor, bool jwt)
    {
        var now = Now;
        var te = new TokenEntry
        {
            Id = Ids.ServiceToken(),
            Accessor = Ids.Random(24),
            Policies = ["response-wrapping"],
            CreationTime = now,
            IssueTime = now,
            CreationTtl = ttl,
            Ttl = ttl,
            ExpireTime = now.AddSeconds(ttl),
            NumUses = 1,
            Orphan = true,
            IsWrapping = true,
            WrappedResponse = payload,
            WrapCreationPath = creationPath,
            Path = creationPath,
        };
        _tokens[te.Id] = te;
        _accessors[te.Accessor] = te.Id;
        var leaseId = creationPath.TrimEnd('/') + "/" + Ids.TokenLeaseKey(te.Id);
        te.LeaseId = leaseId;
        _leases[leaseId] = new Lease { Id = leaseId, IssueTime = now, ExpireTime = te.ExpireTime, TokenId = te.Id, OriginalTtl = ttl };
        return new VaultResponse
        {
            Wrap = new WrapInfo
            {
                Token = jwt ? WrappingJwt(te, now) : te.Id,
                Accessor = te.Accessor,
                Ttl = ttl,
                CreationTime = now,
                CreationPath = creationPath,
                WrappedAccessor = string.IsNullOrEmpty(wrappedAccessor) ? null : wrappedAccessor,
            },
        };
    }

    private string WrappingJwt(TokenEntry te, DateTimeOffset now)
    {
        _wrapJwtKey ??= ECDsa.Create(ECCurve.NamedCurves.nistP521);
        static string B64(ReadOnlySpan<byte> b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64("{\"alg\":\"ES512\",\"typ\":\"JWT\"}"u8);
        var claims = new JsonObject
        {
            ["accessor"] = "",
            ["exp"] = Ids.Unix(te.ExpireTime!.Value),
            ["iat"] = Ids.Unix(now),
            ["jti"] = te.Id,
            ["nbf"] = Ids.Unix(now) - 5,
            ["type"] = "wrapping",
        };
        var body = B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var sig = _wrapJwtKey.SignData(Encoding.ASCII.GetBytes(header + "." + body), HashAlgorithmName.SHA512);
        return header + "." + body + "." + B64(sig);
    }

    private static string? JwtWrappingTokenId(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var s = parts[1].Replace('-', '+').Replace('_', '/');
            s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
            return JsonNode.Parse(Convert.FromBase64String(s))?["jti"]?.ToString();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    private TokenEntry? WrappingToken(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }
        var te = LookupToken(id);
        return te is { IsWrapping: true } ? te : null;
    }

    private VaultResponse WrappingLookup(VaultRequest req)
    {
        var te = WrappingToken(req.Body["token"]?.ToString() ?? req.ClientToken);
        if (te is null)
        {
            return VaultResponse.BadRequest("wrapping token is not valid or does not exist");
        }
        return new VaultResponse
        {
            RequestId = req.RequestId,
            Data = new JsonObject
            {
                ["creation_path"] = te.WrapCreationPath,
                ["creation_time"] = Ids.Time(te.CreationTime),
                ["creation_ttl"] = te.CreationTtl,
            },
        };
    }

    private VaultResponse Unwrap(VaultRequest req)
    {
        if (req.ClientToken is null)
        {
            return VaultResponse.BadRequest("missing client token");
        }
        var bodyToken = req.Body["token"]?.ToString();
        TokenEntry? te;
        if (!string.IsNullOrEmpty(bodyToken))
        {
            // Another token authenticates the call; it must be valid.
            var caller = LookupToken(req.ClientToken);
            if (caller is null)
            {
                return VaultResponse.BadToken();
            }
            te = WrappingToken(bodyToken);
        }
        else
        {
            te = WrappingToken(req.ClientToken);
        }
        if (te is null)
        {
            return VaultResponse.BadRequest("wrapping token is not valid or does not exist");
        }
        var payload = te.WrappedResponse!;
        RevokeToken(te.Id, orphanChildren: false);
        return new VaultResponse { Prebuilt = payload };
    }

    private VaultResponse Rewrap(VaultRequest req)
    {
        var te = WrappingToken(req.Body["token"]?.ToString());
        if (te is null)
        {
            return VaultResponse.BadRequest("wrapping token is not valid or does not exist");
        }
        var payload = te.WrappedResponse!;
        var path = te.WrapCreationPath!;
        var ttl = te.CreationTtl;
        RevokeToken(te.Id, orphanChildren: false);
        return Wrap(ttl, path, payload, null, jwt: false);
    }
}
