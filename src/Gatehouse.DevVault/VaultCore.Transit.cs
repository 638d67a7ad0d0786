using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>A minimal transit engine: named AES-256-GCM keys, encrypt and decrypt.</summary>
internal sealed partial class VaultCore
{
    private static Dictionary<string, byte[]> TransitKeys(Mount m) => (Dictionary<string, byte[]>)(m.State ??= new Dictionary<string, byte[]>(StringComparer.Ordinal));

    private static VaultResponse HandleTransit(VaultRequest req, Mount mount, string sub)
    {
        var keys = TransitKeys(mount);
        var write = req.Operation is "create" or "update";
        if (sub.StartsWith("keys/", StringComparison.Ordinal) && write)
        {
            keys.TryAdd(sub[5..], RandomNumberGenerator.GetBytes(32));
            return VaultResponse.NoContent();
        }
        if (sub.StartsWith("encrypt/", StringComparison.Ordinal) && write)
        {
            if (!keys.TryGetValue(sub[8..], out var key))
            {
                key = RandomNumberGenerator.GetBytes(32);
                keys[sub[8..]] = key;
            }
            byte[] plain;
            try
            {
                plain = Convert.FromBase64String(req.Body["plaintext"]?.ToString() ?? "");
            }
            catch (FormatException)
            {
                return VaultResponse.BadRequest("failed to base64-decode plaintext");
            }
            var nonce = RandomNumberGenerator.GetBytes(12);
            var output = new byte[12 + plain.Length + 16];
            nonce.CopyTo(output, 0);
            using (var gcm = new AesGcm(key, 16))
            {
                gcm.Encrypt(nonce, plain, output.AsSpan(12, plain.Length), output.AsSpan(12 + plain.Length));
            }
            return VaultResponse.Ok(new JsonObject { ["ciphertext"] = "vault:v1:" + Convert.ToBase64String(output), ["key_version"] = 1 });
        }
        if (sub.StartsWith("decrypt/", StringComparison.Ordinal) && write)
        {
            var ct = req.Body["ciphertext"]?.ToString() ?? "";
            if (!keys.TryGetValue(sub[8..], out var key) || !ct.StartsWith("vault:v1:", StringComparison.Ordinal))
            {
                return VaultResponse.BadRequest("invalid ciphertext: no prefix");
            }
            try
            {
                var input = Convert.FromBase64String(ct[9..]);
                var plain = new byte[input.Length - 28];
                using var gcm = new AesGcm(key, 16);
                gcm.Decrypt(input.AsSpan(0, 12), input.AsSpan(12, plain.Length), input.AsSpan(12 + plain.Length), plain);
                return VaultResponse.Ok(new JsonObject { ["plaintext"] = Convert.ToBase64String(plain) });
            }
            catch (Exception e) when (e is FormatException or CryptographicException or OverflowException or ArgumentException)
            {
                return VaultResponse.BadRequest("cipher: message authentication failed");
            }
        }
        return VaultResponse.UnsupportedPath();
    }
}
