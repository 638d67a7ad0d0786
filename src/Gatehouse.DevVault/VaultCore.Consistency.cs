using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.DevVault;

/// <summary>
/// Vault Enterprise eventual-consistency emulation. The index is modelled on Vault's WAL state header:
/// base64("v1:&lt;cluster id&gt;:&lt;local index&gt;:&lt;replicated index&gt;:&lt;hmac&gt;"). Writes bump the index at once (the
/// "active node"); the index a read sees (the "standby") trails it by <see cref="DevVaultOptions.ReplicationLag"/>.
/// </summary>
internal sealed partial class VaultCore
{
    private readonly List<(long Index, DateTimeOffset At)> _writes = [];
    private readonly byte[] _indexKey = RandomNumberGenerator.GetBytes(32);
    private long _index;

    private VaultResponse? CheckConsistency(VaultRequest req)
    {
        var headers = req.Http.Request.Headers;
        var forward = headers["X-Vault-Forward"].ToString();
        var inconsistent = headers["X-Vault-Inconsistent"].ToString();
        if (!_options.EnterpriseConsistency)
        {
            if (forward.Length > 0)
            {
                return VaultResponse.BadRequest("forwarding via header X-Vault-Forward disabled in configuration");
            }
            if (inconsistent == "forward-active-node")
            {
                return VaultResponse.BadRequest("forwarding via header X-Vault-Inconsistent=forward-active-node disabled in configuration");
            }
            return null;
        }
        var wanted = ParseIndex(headers["X-Vault-Index"].ToString());
        if (wanted is null || forward == "active-node" || inconsistent == "forward-active-node" || wanted <= AppliedIndex())
        {
            return null;
        }
        return VaultResponse.Error(412, "required index state not present");
    }

    private long AppliedIndex()
    {
        var cutoff = Now - _options.ReplicationLag;
        long applied = 0;
        foreach (var (index, at) in _writes)
        {
            if (at <= cutoff)
            {
                applied = index;
            }
        }
        return applied;
    }

    private string? ConsistencyIndex(VaultRequest req, VaultResponse resp)
    {
        if (!_options.EnterpriseConsistency)
        {
            return null;
        }
        var forwarded = req.Http.Request.Headers["X-Vault-Forward"] == "active-node" || req.Http.Request.Headers["X-Vault-Inconsistent"] == "forward-active-node";
        if (req.Operation is "create" or "update" or "delete" && resp.Status < 400)
        {
            _index++;
            _writes.Add((_index, Now));
            if (_writes.Count > 1024)
            {
                _writes.RemoveRange(0, 512);
            }
            return EncodeIndex(_index);
        }
        return EncodeIndex(forwarded ? _index : AppliedIndex());
    }

    private string EncodeIndex(long index)
    {
        var n = index.ToString(CultureInfo.InvariantCulture);
        var body = $"v1:{ClusterId}:{n}:{n}";
        var mac = Convert.ToBase64String(HMACSHA256.HashData(_indexKey, Encoding.UTF8.GetBytes(body)));
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(body + ":" + mac));
    }

    /// <summary>Null for a missing, foreign or malformed header (ignored, like a state from another cluster).</summary>
    private long? ParseIndex(string header)
    {
        if (header.Length == 0)
        {
            return null;
        }
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(header)).Split(':');
            if (parts.Length != 5 || parts[0] != "v1" || parts[1] != ClusterId)
            {
                return null;
            }
            var body = string.Join(':', parts[..4]);
            var mac = Convert.ToBase64String(HMACSHA256.HashData(_indexKey, Encoding.UTF8.GetBytes(body)));
            return mac == parts[4] && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var i) ? i : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
