using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// Minimal PKI and TOTP engines: enough for leased certificates (<c>generate_lease</c>) and the engines without
/// leases that transcript 06 shows. Not a CA to rely on.
/// </summary>
internal sealed partial class VaultCore
{
    private sealed class PkiState
    {
        public X509Certificate2? Ca { get; set; }
        public RSA? CaKey { get; set; }
        public Dictionary<string, JsonObject> Roles { get; } = new(StringComparer.Ordinal);
    }

    private static string Serial(byte[] serial) => string.Join(':', serial.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private VaultResponse HandlePki(VaultRequest req, Mount mount, string sub)
    {
        var state = (PkiState)(mount.State ??= new PkiState());
        var write = req.Operation is "create" or "update";
        var now = Now;
        if (sub is "root/generate/internal" or "root/generate/exported" && write)
        {
            var ttl = GoDuration.SecondsOrZero(req.Body["ttl"]);
            ttl = ttl > 0 ? ttl : SystemMaxTtl;
            var key = RSA.Create(2048);
            var cn = req.Body["common_name"]?.ToString() ?? "";
            var csr = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            csr.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            csr.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            csr.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, false));
            var serial = RandomNumberGenerator.GetBytes(20);
            serial[0] &= 0x7f;
            var ca = csr.Create(csr.SubjectName, X509SignatureGenerator.CreateForRSA(key, RSASignaturePadding.Pkcs1), now.AddSeconds(-30), now.AddSeconds(ttl), serial);
            state.Ca = ca;
            state.CaKey = key;
            var pem = ca.ExportCertificatePem();
            return VaultResponse.Ok(new JsonObject
            {
                ["certificate"] = pem, ["expiration"] = Ids.Unix(now.AddSeconds(ttl)), ["issuing_ca"] = pem, ["serial_number"] = Serial(serial),
            });
        }
        if (sub.StartsWith("roles/", StringComparison.Ordinal))
        {
            var name = sub[6..];
            switch (req.Operation)
            {
                case "create" or "update":
                    state.Roles[name] = (JsonObject)req.Body.DeepClone();
                    return VaultResponse.NoContent();
                case "read":
                    return state.Roles.TryGetValue(name, out var r) ? VaultResponse.Ok(r.DeepClone()) : VaultResponse.NotFound();
                case "delete":
                    state.Roles.Remove(name);
                    return VaultResponse.NoContent();
            }
        }
        if (sub.StartsWith("issue/", StringComparison.Ordinal) && write)
        {
            var roleName = sub[6..];
            if (!state.Roles.TryGetValue(roleName, out var role))
            {
                return VaultResponse.BadRequest($"unknown role: {roleName}");
            }
            if (state.Ca is null || state.CaKey is null)
            {
                return VaultResponse.BadRequest("no default issuer currently configured");
            }
            var ttl = GoDuration.SecondsOrZero(req.Body["ttl"]);
            var maxTtl = GoDuration.SecondsOrZero(role["max_ttl"]);
            ttl = ttl > 0 ? ttl : maxTtl > 0 ? maxTtl : SystemMaxTtl;
            if (maxTtl > 0 && ttl > maxTtl)
            {
                ttl = maxTtl;
            }
            using var key = RSA.Create(2048);
            var csr = new CertificateRequest("CN=" + req.Body["common_name"], key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var serial = RandomNumberGenerator.GetBytes(20);
            serial[0] &= 0x7f;
            using var cert = csr.Create(state.Ca.SubjectName, X509SignatureGenerator.CreateForRSA(state.CaKey, RSASignaturePadding.Pkcs1), now.AddSeconds(-30), now.AddSeconds(ttl), serial);
            var data = new JsonObject
            {
                ["certificate"] = cert.ExportCertificatePem(),
                ["expiration"] = Ids.Unix(now.AddSeconds(ttl)),
                ["issuing_ca"] = state.Ca.ExportCertificatePem(),
                ["private_key"] = key.ExportRSAPrivateKeyPem(),
                ["private_key_type"] = "rsa",
                ["serial_number"] = Serial(serial),
            };
            if (role["generate_lease"]?.ToString() is "true" or "True")
            {
                var lease = AddSecretLease(req.Path, ttl, renewable: false, data: null, req.Token, ttl);
                return new VaultResponse { LeaseId = lease.Id, LeaseDuration = ttl, Data = data };
            }
            return VaultResponse.Ok(data);
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse HandleTotp(VaultRequest req, Mount mount, string sub)
    {
        var keys = (Dictionary<string, byte[]>)(mount.State ??= new Dictionary<string, byte[]>(StringComparer.Ordinal));
        if (sub.StartsWith("keys/", StringComparison.Ordinal) && req.Operation is "create" or "update")
        {
            var url = req.Body["url"]?.ToString() ?? "";
            var query = url.Contains('?', StringComparison.Ordinal) ? url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
            var secret = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery("?" + query).GetValueOrDefault("secret").ToString();
            var bytes = Base32(req.Body["key"]?.ToString() ?? secret);
            if (bytes.Length == 0)
            {
                return VaultResponse.BadRequest("the key value is required");
            }
            keys[sub[5..]] = bytes;
            return VaultResponse.NoContent();
        }
        if (sub.StartsWith("code/", StringComparison.Ordinal) && req.Operation == "read")
        {
            if (!keys.TryGetValue(sub[5..], out var k))
            {
                return VaultResponse.BadRequest("unknown key: " + sub[5..]);
            }
            var counter = BitConverter.GetBytes(Ids.Unix(Now) / 30);
            if (BitConverter.IsLittleEndian)
            {
                Array.Reverse(counter);
            }
#pragma warning disable CA5350 // RFC 6238 TOTP is defined over HMAC-SHA1, as Vault's default.
            var hash = HMACSHA1.HashData(k, counter);
#pragma warning restore CA5350
            var offset = hash[^1] & 0x0f;
            var code = ((hash[offset] & 0x7f) << 24 | hash[offset + 1] << 16 | hash[offset + 2] << 8 | hash[offset + 3]) % 1_000_000;
            return VaultResponse.Ok(new JsonObject { ["code"] = code.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) });
        }
        return VaultResponse.UnsupportedPath();
    }

    private static byte[] Base32(string s)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in s.TrimEnd('=').ToUpperInvariant())
        {
            var v = alphabet.IndexOf(c, StringComparison.Ordinal);
            if (v < 0)
            {
                return [];
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. output];
    }
}
