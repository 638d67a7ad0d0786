using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Shared;

/// <summary>
/// The keys derived from the shared store's key material (<c>key_file</c> or <c>key_env_var</c>) with HKDF-SHA256,
/// one per purpose, so that no derived key reveals another or the material: the sealing key (AES-256-GCM), the key id
/// (a public fingerprint that names the key in every envelope and in log lines, so two replicas can tell they hold
/// different keys without showing either), and the naming key (HMAC-SHA256 of names such as a token, so that neither
/// a token nor its plain hash appears in a Redis key). The material itself never leaves the process.
/// </summary>
internal sealed class SharedKeys
{
    /// <summary>Bytes of the key id in an envelope.</summary>
    public const int KeyIdSize = 8;

    private static readonly byte[] Salt = Encoding.ASCII.GetBytes("gatehouse shared store");

    private readonly byte[] _sealKey;
    private readonly byte[] _nameKey;

    private SharedKeys(byte[] sealKey, byte[] keyId, byte[] nameKey)
    {
        _sealKey = sealKey;
        KeyId = keyId;
        _nameKey = nameKey;
    }

    /// <summary>The public fingerprint of the key material (8 bytes); <see cref="KeyIdText"/> is how messages show it.</summary>
    public ReadOnlyMemory<byte> KeyId { get; }

    public string KeyIdText => Convert.ToHexStringLower(KeyId.Span);

    internal ReadOnlySpan<byte> SealKey => _sealKey;

    /// <summary>Derives the keys; <paramref name="material"/> must hold at least <see cref="SharedKeyText.MinimumBytes"/> bytes.</summary>
    public static SharedKeys FromMaterial(ReadOnlySpan<byte> material)
    {
        if (material.Length < SharedKeyText.MinimumBytes)
            throw new ArgumentException($"the key material holds {material.Length} bytes, fewer than {SharedKeyText.MinimumBytes}", nameof(material));
        return new SharedKeys(
            Derive(material, 32, "seal v1"),
            Derive(material, KeyIdSize, "key id v1"),
            Derive(material, 32, "name v1"));
    }

    /// <summary>
    /// Reads the material as the configuration names it (the validator has checked the same file or variable when the
    /// configuration was loaded; a file changed since is a start-up failure with this message).
    /// </summary>
    public static SharedKeys Load(SharedConfig config, Func<string, string?> environment)
    {
        string source;
        string? text;
        if (!string.IsNullOrEmpty(config.KeyFile))
        {
            source = $"key_file {config.KeyFile}";
            try
            {
                text = File.ReadAllText(config.KeyFile);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new SharedStoreException($"cache.shared: cannot read {source}: {exception.Message}", exception);
            }
        }
        else
        {
            source = $"the environment variable {config.KeyEnvVar} (key_env_var)";
            text = environment(config.KeyEnvVar ?? "");
        }

        if ((text is null ? "is not set" : SharedKeyText.Problem(text)) is { } problem)
            throw new SharedStoreException($"cache.shared: {source} {problem}");
        SharedKeyText.TryDecode(text!, out var material);
        try
        {
            return FromMaterial(material);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// A name safe to put in a Redis key for <paramref name="value"/> (a token, a request's identity): the hex of
    /// HMAC-SHA256(naming key, purpose NUL value), 32 characters. The purpose keeps names of different kinds apart.
    /// </summary>
    public string Name(string purpose, string value) => Name(purpose, Encoding.UTF8.GetBytes(value));

    public string Name(string purpose, ReadOnlySpan<byte> value)
    {
        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        var input = new byte[purposeBytes.Length + 1 + value.Length];
        purposeBytes.CopyTo(input, 0);
        value.CopyTo(input.AsSpan(purposeBytes.Length + 1));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_nameKey, input, mac);
        CryptographicOperations.ZeroMemory(input);
        return Convert.ToHexStringLower(mac[..16]);
    }

    private static byte[] Derive(ReadOnlySpan<byte> material, int length, string purpose)
    {
        var output = new byte[length];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, material, output, Salt, Encoding.ASCII.GetBytes("gatehouse " + purpose));
        return output;
    }
}
