using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// DH-encrypted file sinks through the real pipeline: an HCL config loaded by <see cref="ConfigLoader"/> (so
/// <c>aad_env_var</c> is resolved as at startup), wired by AddAutoAuth/AddSinks, logging in to DevVault. A consumer
/// written from Vault's documented algorithm (helper/dhutil) decrypts what lands on disk.
/// </summary>
public sealed class DhSinkEndToEndTests
{
    [Fact]
    public async Task DhSinks_WithAndWithoutDeriveKeyAndAad_AreDecryptedByAVaultStyleConsumer()
    {
        await using var h = await AutoAuthHarness.StartVaultAsync();
        var token = await TokenFileAsync(h);
        var consumer = new DhConsumer(h.PathOf("dh-pub.json"));
        var config = Load(h, $$"""
            vault { address = "{{h.Server.Address}}" }
            auto_auth {
              method "token_file" { config = { token_file_path = "{{h.PathOf("vault-token")}}" } }
              sink "file" {
                dh_type = "curve25519"
                dh_path = "{{consumer.PublicKeyPath}}"
                config  = { path = "{{h.PathOf("plain.enc")}}" }
              }
              sink "file" {
                dh_type    = "curve25519"
                dh_path    = "{{consumer.PublicKeyPath}}"
                derive_key = true
                aad        = "my-app"
                config     = { path = "{{h.PathOf("derived-aad.enc")}}" }
              }
              sink "file" {
                dh_type     = "curve25519"
                dh_path     = "{{consumer.PublicKeyPath}}"
                derive_key  = true
                aad         = "replaced by the variable"
                aad_env_var = "APP_AAD"
                config      = { path = "{{h.PathOf("derived-env.enc")}}" }
              }
            }
            """, new Dictionary<string, string> { ["APP_AAD"] = "from-the-environment" });

        await h.StartGatehouseAsync(config);
        await h.NextWaitAsync();
        for (var i = 0; i < 3; i++)
        {
            await h.NextSinkWriteAsync();
        }

        Assert.Equal(token, consumer.Decrypt(await File.ReadAllBytesAsync(h.PathOf("plain.enc")), deriveKey: false, aad: null));
        Assert.Equal(token, consumer.Decrypt(await File.ReadAllBytesAsync(h.PathOf("derived-aad.enc")), deriveKey: true, aad: "my-app"));
        Assert.Equal(token, consumer.Decrypt(await File.ReadAllBytesAsync(h.PathOf("derived-env.enc")), deriveKey: true, aad: "from-the-environment"));
        Assert.ThrowsAny<CryptographicException>(() =>
            consumer.Decrypt(File.ReadAllBytes(h.PathOf("derived-env.enc")), deriveKey: true, aad: "replaced by the variable"));
        Assert.ThrowsAny<CryptographicException>(() =>
            consumer.Decrypt(File.ReadAllBytes(h.PathOf("derived-aad.enc")), deriveKey: false, aad: "my-app"));

        // The file holds exactly Vault's envelope and nothing else.
        using var envelope = JsonDocument.Parse(await File.ReadAllBytesAsync(h.PathOf("plain.enc")));
        Assert.Equal(["curve25519_public_key", "nonce", "encrypted_payload"], envelope.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(h.PathOf("plain.enc")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DhSink_WithWrapTtl_IsWrappedFirstThenEncrypted()
    {
        await using var h = await AutoAuthHarness.StartVaultAsync();
        var token = await TokenFileAsync(h);
        var consumer = new DhConsumer(h.PathOf("dh-pub.json"));
        var config = Load(h, $$"""
            vault { address = "{{h.Server.Address}}" }
            auto_auth {
              method "token_file" { config = { token_file_path = "{{h.PathOf("vault-token")}}" } }
              sink "file" {
                wrap_ttl   = "2m"
                dh_type    = "curve25519"
                dh_path    = "{{consumer.PublicKeyPath}}"
                derive_key = true
                aad        = "wrapped"
                config     = { path = "{{h.PathOf("wrapped.enc")}}" }
              }
            }
            """);

        await h.StartGatehouseAsync(config);
        await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        var wrapInfo = JsonNode.Parse(consumer.Decrypt(await File.ReadAllBytesAsync(h.PathOf("wrapped.enc")), deriveKey: true, aad: "wrapped"))!;
        Assert.Equal("sys/wrapping/wrap", wrapInfo["creation_path"]!.ToString());
        Assert.Equal(120, wrapInfo["ttl"]!.GetValue<int>());
        var unwrapped = await h.RootAsync(HttpMethod.Put, "sys/wrapping/unwrap", token: wrapInfo["token"]!.ToString());
        Assert.Equal(token, unwrapped!["data"]!["token"]!.ToString());
    }

    private static async Task<string> TokenFileAsync(AutoAuthHarness h)
    {
        var token = (await h.RootAsync(HttpMethod.Post, "auth/token/create", new { ttl = "1h", policies = new[] { "default" } }))!["auth"]!["client_token"]!.ToString();
        await File.WriteAllTextAsync(h.PathOf("vault-token"), token);
        return token;
    }

    private static GatehouseConfig Load(AutoAuthHarness h, string hcl, IReadOnlyDictionary<string, string>? environment = null)
    {
        var file = h.PathOf("agent.hcl");
        File.WriteAllText(file, hcl);
        var result = ConfigLoader.Load([file], name => environment?.GetValueOrDefault(name));
        Assert.True(result.Config is not null, string.Join("\n", result.Diagnostics));
        return result.Config;
    }

    /// <summary>A consumer of an encrypted sink, from Vault's documented algorithm (X25519, optional HKDF, AES-GCM).</summary>
    private sealed class DhConsumer
    {
        private readonly X25519PrivateKeyParameters _private = new(new SecureRandom());
        private readonly byte[] _public;

        public DhConsumer(string path)
        {
            _public = _private.GeneratePublicKey().GetEncoded();
            PublicKeyPath = path;
            File.WriteAllText(path, new JsonObject { ["curve25519_public_key"] = Convert.ToBase64String(_public) }.ToJsonString());
        }

        public string PublicKeyPath { get; }

        public string Decrypt(byte[] envelopeJson, bool deriveKey, string? aad)
        {
            var envelope = JsonNode.Parse(envelopeJson)!;
            var theirs = Convert.FromBase64String(envelope["curve25519_public_key"]!.ToString());
            var nonce = Convert.FromBase64String(envelope["nonce"]!.ToString());
            var payload = Convert.FromBase64String(envelope["encrypted_payload"]!.ToString());

            var secret = new byte[32];
            var agreement = new X25519Agreement();
            agreement.Init(_private);
            agreement.CalculateAgreement(new X25519PublicKeyParameters(theirs), secret, 0);
            var key = secret;
            if (deriveKey)
            {
                var (salt, info) = _public.AsSpan().SequenceCompareTo(theirs) < 0 ? (_public, theirs) : (theirs, _public);
                key = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt, info);
            }

            var plaintext = new byte[payload.Length - 16];
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(nonce, payload.AsSpan(0, plaintext.Length), payload.AsSpan(plaintext.Length), plaintext, Encoding.UTF8.GetBytes(aad ?? ""));
            return Encoding.UTF8.GetString(plaintext);
        }
    }
}
