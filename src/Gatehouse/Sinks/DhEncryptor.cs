using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.Sinks;

/// <summary>
/// A sink's Diffie-Hellman encryption (<c>dh_type = "curve25519"</c>), byte-compatible with Vault's
/// <c>helper/dhutil</c> so consumers of Vault Agent's encrypted sinks decrypt ours unchanged:
/// </summary>
/// <remarks>
/// 1. The consumer's public key is read from <c>dh_path</c> (<c>{"curve25519_public_key":"&lt;base64 of 32 bytes&gt;"}</c>)
///    the first time it is needed and kept (trust on first use, as in Vault).
/// 2. The sink has its own X25519 key pair for the life of the process.
/// 3. The key is the raw X25519 shared secret or, with <c>derive_key</c>, HKDF-SHA256 of it with salt = the
///    byte-wise lower of the two public keys and info = the higher one, 32 bytes.
/// 4. AES-256-GCM with a fresh random 12-byte nonce and the AAD.
/// 5. Output: <c>{"curve25519_public_key":b64(ours),"nonce":b64,"encrypted_payload":b64(ciphertext‖tag)}</c>, in
///    that order (Go's <c>dhutil.Envelope</c>).
/// </remarks>
internal sealed class DhEncryptor
{
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly string _dhPath;
    private readonly bool _deriveKey;
    private readonly byte[] _aad;
    private readonly X25519PrivateKeyParameters _privateKey;
    private readonly Lock _gate = new();
    private byte[]? _theirPublicKey;

    public DhEncryptor(string dhPath, bool deriveKey, string? aad)
    {
        _dhPath = dhPath;
        _deriveKey = deriveKey;
        _aad = Encoding.UTF8.GetBytes(aad ?? "");
        _privateKey = new X25519PrivateKeyParameters(new SecureRandom());
        PublicKey = _privateKey.GeneratePublicKey().GetEncoded();
    }

    /// <summary>The sink's own public key (32 bytes).</summary>
    public byte[] PublicKey { get; }

    /// <summary>Encrypts <paramref name="plaintext"/> into Vault's envelope JSON. Throws <see cref="SinkWriteException"/>.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        if (plaintext.IsEmpty)
        {
            throw new SinkWriteException("empty plaintext provided");
        }

        var theirs = LoadTheirPublicKey();
        var secret = new byte[KeySize];
        try
        {
            var agreement = new X25519Agreement();
            agreement.Init(_privateKey);
            agreement.CalculateAgreement(new X25519PublicKeyParameters(theirs), secret, 0);
        }
        catch (InvalidOperationException)
        {
            throw new SinkWriteException($"the public key in {_dhPath} gives an all-zero shared secret; it is not a usable curve25519 key");
        }

        var key = _deriveKey ? DeriveSharedKey(secret, PublicKey, theirs) : secret;
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var payload = new byte[plaintext.Length + TagSize];
        using (var aes = new AesGcm(key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, payload.AsSpan(0, plaintext.Length), payload.AsSpan(plaintext.Length), _aad);
        }

        CryptographicOperations.ZeroMemory(secret);
        CryptographicOperations.ZeroMemory(key);

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("curve25519_public_key", PublicKey);
            writer.WriteBase64String("nonce", nonce);
            writer.WriteBase64String("encrypted_payload", payload);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>HKDF-SHA256(secret, salt = lower public key, info = higher public key), as dhutil.DeriveSharedKey.</summary>
    internal static byte[] DeriveSharedKey(byte[] secret, byte[] ourPublic, byte[] theirPublic)
    {
        var order = ourPublic.AsSpan().SequenceCompareTo(theirPublic);
        if (order == 0)
        {
            throw new SinkWriteException("same public key supplied for both participants");
        }

        var (lower, higher) = order < 0 ? (ourPublic, theirPublic) : (theirPublic, ourPublic);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, KeySize, salt: lower, info: higher);
    }

    private byte[] LoadTheirPublicKey()
    {
        lock (_gate)
        {
            if (_theirPublicKey is not null)
            {
                return _theirPublicKey;
            }

            byte[] json;
            try
            {
                json = File.ReadAllBytes(_dhPath);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new SinkWriteException($"no dh parameters file found, and no cached pub key ({_dhPath} does not exist yet)");
            }

            try
            {
                using var document = JsonDocument.Parse(json);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("curve25519_public_key", out var value)
                    && value.ValueKind == JsonValueKind.String
                    && value.TryGetBytesFromBase64(out var key)
                    && key.Length == KeySize)
                {
                    _theirPublicKey = key;
                    return key;
                }
            }
            catch (JsonException)
            {
                // Reported below.
            }

            throw new SinkWriteException(
                $"{_dhPath} does not hold {{\"curve25519_public_key\":\"<base64 of 32 bytes>\"}}; write the consumer's public key there");
        }
    }
}
