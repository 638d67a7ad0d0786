using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Shared;

/// <summary>What <see cref="Sealer.Open"/> found.</summary>
internal enum SealStatus
{
    /// <summary>Opened: the plaintext is authentic and was sealed for this Redis key.</summary>
    Opened,

    /// <summary>Sealed under other key material (another replica's <c>key_file</c>); <see cref="OpenResult.OtherKeyId"/> names it.</summary>
    OtherKey,

    /// <summary>Not an envelope, a version this build does not read, altered, or copied from another Redis key.</summary>
    Corrupt,
}

/// <summary>The outcome of opening an envelope; <see cref="Plaintext"/> is set only when <see cref="Status"/> is Opened.</summary>
internal readonly record struct OpenResult(SealStatus Status, byte[]? Plaintext, string? OtherKeyId);

/// <summary>
/// Seals values for the shared store with AES-256-GCM under <see cref="SharedKeys"/>' sealing key. The envelope is
/// <c>version (1 byte, 1) | key id (8) | nonce (12, random) | ciphertext | tag (16)</c>; the associated data is the
/// version, the key id and the Redis key name, so an envelope copied to another Redis key, or with its header changed,
/// does not open. A value sealed under other key material is told apart from a damaged one by the key id.
/// </summary>
internal sealed class Sealer(SharedKeys keys)
{
    public const byte Version = 1;

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + SharedKeys.KeyIdSize;

    /// <summary>The smallest envelope: an empty plaintext.</summary>
    public const int Overhead = HeaderSize + NonceSize + TagSize;

    public SharedKeys Keys => keys;

    public byte[] Seal(string redisKey, ReadOnlySpan<byte> plaintext)
    {
        var envelope = new byte[Overhead + plaintext.Length];
        envelope[0] = Version;
        keys.KeyId.Span.CopyTo(envelope.AsSpan(1));
        var nonce = envelope.AsSpan(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var ciphertext = envelope.AsSpan(HeaderSize + NonceSize, plaintext.Length);
        var tag = envelope.AsSpan(envelope.Length - TagSize);
        using var aes = new AesGcm(keys.SealKey, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(envelope.AsSpan(0, HeaderSize), redisKey));
        return envelope;
    }

    public OpenResult Open(string redisKey, ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < Overhead || envelope[0] != Version)
            return new OpenResult(SealStatus.Corrupt, null, null);
        var keyId = envelope.Slice(1, SharedKeys.KeyIdSize);
        if (!keyId.SequenceEqual(keys.KeyId.Span))
            return new OpenResult(SealStatus.OtherKey, null, Convert.ToHexStringLower(keyId));

        var nonce = envelope.Slice(HeaderSize, NonceSize);
        var ciphertext = envelope[(HeaderSize + NonceSize)..^TagSize];
        var tag = envelope[^TagSize..];
        var plaintext = new byte[ciphertext.Length];
        using var aes = new AesGcm(keys.SealKey, TagSize);
        try
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, AssociatedData(envelope[..HeaderSize], redisKey));
        }
        catch (AuthenticationTagMismatchException)
        {
            return new OpenResult(SealStatus.Corrupt, null, null);
        }

        return new OpenResult(SealStatus.Opened, plaintext, null);
    }

    private static byte[] AssociatedData(ReadOnlySpan<byte> header, string redisKey)
    {
        var name = Encoding.UTF8.GetBytes(redisKey);
        var data = new byte[header.Length + name.Length];
        header.CopyTo(data);
        name.CopyTo(data.AsSpan(header.Length));
        return data;
    }
}
