using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.Sinks;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.Tests.Sinks;

/// <summary>
/// Decrypts the sink's output the way a Vault Agent consumer does (helper/dhutil, written from its documented
/// algorithm here, independently of the sink's code).
/// </summary>
public sealed class DhEncryptorTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-dh-");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, "my-aad")]
    [InlineData(true, "my-aad")]
    public void DhEncryptor_Output_DecryptsWithVaultsAlgorithm(bool deriveKey, string? aad)
    {
        var consumer = new TestConsumer(_dir);
        var encryptor = new DhEncryptor(consumer.PublicKeyPath, deriveKey, aad);

        var envelope = encryptor.Encrypt("hvs.secret-token"u8);

        Assert.Equal("hvs.secret-token", consumer.Decrypt(envelope, deriveKey, aad));
    }

    [Fact]
    public void DhEncryptor_Envelope_HasVaultsFieldsInVaultsOrder()
    {
        var consumer = new TestConsumer(_dir);
        var envelope = new DhEncryptor(consumer.PublicKeyPath, false, null).Encrypt("t"u8);
        using var document = JsonDocument.Parse(envelope);
        Assert.Equal(["curve25519_public_key", "nonce", "encrypted_payload"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(32, document.RootElement.GetProperty("curve25519_public_key").GetBytesFromBase64().Length);
        Assert.Equal(12, document.RootElement.GetProperty("nonce").GetBytesFromBase64().Length);
        Assert.Equal(1 + 16, document.RootElement.GetProperty("encrypted_payload").GetBytesFromBase64().Length);
    }

    [Fact]
    public void DhEncryptor_WrongAad_DoesNotDecrypt()
    {
        var consumer = new TestConsumer(_dir);
        var envelope = new DhEncryptor(consumer.PublicKeyPath, true, "right").Encrypt("t"u8);
        Assert.ThrowsAny<CryptographicException>(() => consumer.Decrypt(envelope, true, "wrong"));
    }

    [Fact]
    public void DhEncryptor_WithoutPublicKeyFile_FailsWithVaultsMessage()
    {
        var encryptor = new DhEncryptor(Path.Combine(_dir, "missing.json"), false, null);
        var error = Assert.Throws<SinkWriteException>(() => encryptor.Encrypt("t"u8));
        Assert.Contains("no dh parameters file found, and no cached pub key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DhEncryptor_KeepsTheFirstPublicKeyItRead()
    {
        var consumer = new TestConsumer(_dir);
        var encryptor = new DhEncryptor(consumer.PublicKeyPath, false, null);
        encryptor.Encrypt("t"u8);
        File.Delete(consumer.PublicKeyPath);
        Assert.Equal("again", consumer.Decrypt(encryptor.Encrypt("again"u8), false, null));
    }

    [Fact]
    public void DhEncryptor_GarbagePublicKeyFile_GivesAClearError()
    {
        var path = Path.Combine(_dir, "garbage.json");
        File.WriteAllText(path, "not json");
        var error = Assert.Throws<SinkWriteException>(() => new DhEncryptor(path, false, null).Encrypt("t"u8));
        Assert.Contains("curve25519_public_key", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A consumer of an encrypted sink, as Vault documents it.</summary>
    internal sealed class TestConsumer
    {
        private readonly X25519PrivateKeyParameters _private = new(new SecureRandom());

        public TestConsumer(string dir)
        {
            PublicKey = _private.GeneratePublicKey().GetEncoded();
            PublicKeyPath = Path.Combine(dir, "dh-pub.json");
            File.WriteAllText(PublicKeyPath, $$"""{"curve25519_public_key":"{{Convert.ToBase64String(PublicKey)}}"}""");
        }

        public byte[] PublicKey { get; }

        public string PublicKeyPath { get; }

        public string Decrypt(byte[] envelopeJson, bool deriveKey, string? aad)
        {
            using var envelope = JsonDocument.Parse(envelopeJson);
            var sinkPublic = envelope.RootElement.GetProperty("curve25519_public_key").GetBytesFromBase64();
            var nonce = envelope.RootElement.GetProperty("nonce").GetBytesFromBase64();
            var payload = envelope.RootElement.GetProperty("encrypted_payload").GetBytesFromBase64();

            var agreement = new X25519Agreement();
            agreement.Init(_private);
            var secret = new byte[32];
            agreement.CalculateAgreement(new X25519PublicKeyParameters(sinkPublic), secret, 0);

            var key = secret;
            if (deriveKey)
            {
                // dhutil.DeriveSharedKey: salt is the numerically lower public key, info the higher.
                var mineFirst = PublicKey.AsSpan().SequenceCompareTo(sinkPublic) < 0;
                var salt = mineFirst ? PublicKey : sinkPublic;
                var info = mineFirst ? sinkPublic : PublicKey;
                key = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt, info);
            }

            var plaintext = new byte[payload.Length - 16];
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(nonce, payload.AsSpan(0, plaintext.Length), payload.AsSpan(plaintext.Length), plaintext,
                aad is null ? null : Encoding.UTF8.GetBytes(aad));
            return Encoding.UTF8.GetString(plaintext);
        }
    }
}
