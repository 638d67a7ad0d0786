using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>
/// The OCI request signer against the OCI Go SDK's published signing vector (the example key, request and signature of
/// OCI's "Request Signatures" documentation, which the SDK's http_signer_test.go checks), the API key configuration
/// chain as the Go SDK's providers read it, encrypted keys, and the oci method's login body and credential poller.
/// </summary>
public sealed class OciMethodTests : IDisposable
{
    // OCI's documentation example: its test key, tenancy, user and fingerprint, and the GET it signs.
    private const string ExampleKey = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
        NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
        UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
        AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
        QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
        kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
        f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
        412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
        mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
        kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
        gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
        G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
        7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
        -----END RSA PRIVATE KEY-----
        """;

    private const string ExampleKeyId = "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq/" +
        "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";

    private const string ExamplePathAndQuery = "/20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&" +
        "compartmentId=ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa" +
        "&displayName=TeamXInstances&volumeId=ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q";

    private const string ExampleSignature = "GBas7grhyrhSKHP6AVIj/h5/Vp8bd/peM79H9Wv8kjoaCivujVXlpbKLjMPe" +
        "DUhxkFIWtTtLBj3sUzaFj34XE6YZAHc9r2DmE4pMwOAy/kiITcZxa1oHPOeRheC0jP2dqbTll" +
        "8fmTZVwKZOKHYPtrLJIJQHJjNvxFWeHQjMaR7M=";

    private static readonly DateTimeOffset ExampleDate = new(2014, 1, 5, 21, 31, 40, TimeSpan.Zero);

    // Made with `openssl genrsa -traditional -aes128|-des3 -passout pass:gatehouse-test 1024` and `openssl rsa -pubout`.
    private const string LegacyAesKey = """
        -----BEGIN RSA PRIVATE KEY-----
        Proc-Type: 4,ENCRYPTED
        DEK-Info: AES-128-CBC,04E36DBCCD3B14760D2EB79782F1B221
        
        Ok07AcdMNZ4Y+YH5PYsKteV5o58QYCPTYDQdS1lSHKsK/LLWEah5b12+CSSp0SYS
        ABi19EeMEfjZLssXay+TeX6wk2QKt3SMEem5C6dlpvBXRgTs0fToSVk2UiiLYDow
        E3+BguGgLU0LE/3E2ghrwX972rgsUOHnNBrLXcIZVitun8LWYaxogmLu1WOS0r1F
        xdVvhaQYp927Ay5T8bGysCBWAJcIfSUfkQwyNROzgOjvgXm9EkyiD1r0izqIOcJJ
        ToPyu0JURpjj0sbY802qtP0YhkIgBfeGlc0la14FBe18P/Bxn817l/5Oyjv3E/WF
        Ih+BFacWl9lL1GWG/fiJbjfUyW7N/G3OIURhwhP8YRoW4GsBUNrgPgQ7UkIPKShv
        bMXSrEVstb/ABp27JdWWqSl2P9bSI5F5u8O/hO67TycU6eTXNKUhHKcIIeojy1bq
        QiU6LmzkqEHom/WINIpbduhs9m15Qnyl8mhJzevjN0uBJhrDybz5C0ycljWdVLB/
        2Nm7306NhNPf7rLjtqgZ0hVwAT1xgTS/2Oaw/t0++m7RNN+zoO1TEQhD3XqEnHbK
        mf/yhd8iubc/HbYQlsFRnhdlqZHe8290GmAN1ruy2b27LLFpWfNUw1HSo//LCzJG
        y85pLI3c5oKfLrBDV0p7ju5UDsuL0NQga6vURyCP6FbhnhDNUbpJcOJwj5WV1T4g
        +SY9rZ7ELozofAZ8qIWYzdX+ByFX5szzXxF/0fbgqoL/THeTC+TCiieTrXVSfxFb
        YFA0iyKXGKJlbuQOQXwbnbuHjiQ5eOD3kC0FFwOHnR1HXuwugOAfK2Z5JY7jverV
        -----END RSA PRIVATE KEY-----
        """;

    private const string LegacyAesPublic = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCwcyCtf0wD4lPTyozF6ZSHk5jw
        nZJIn428nNKVWKSa5Objy07N0tGgbc6SULTAWydG1pErJgUTtloy+Oi3n8BYYZxq
        t/l4g1fbarV4ijD5BouGR+up5ZnBtBes8rnfg/hzyjzpmDXSR9On5QdqOQcpqCKQ
        1vW9Y6dRKRk7MD7V7QIDAQAB
        -----END PUBLIC KEY-----
        """;

    private const string LegacyDes3Key = """
        -----BEGIN RSA PRIVATE KEY-----
        Proc-Type: 4,ENCRYPTED
        DEK-Info: DES-EDE3-CBC,892971BEB2135ACD
        
        Za8p/Myt0Y8plekKpMxkvTMgeIaFLer5fWBM1qAiwEdCETp11oWC+jxsbJIaNX2g
        C2TULF29vJtSyNpJGkzt0GY5qQouJ6PeuOGfZbsEqI6JJgKDPjbFOBpVupb0AG2R
        rX+f2W3vSe8qyWgZ9/NHNFMcP1qNXsyZUYICFMM8J07wcCwmajQMcam092uuoi3z
        iUN9jbYRMCAFp7sPgayIGVN9hcAtdSbjJRIQ9cbeqBJw9MVAwnUEN50Uh/XmJG0z
        5VjDHUzP+g13OJLaWE1rWfZfncD3j/Oo/waV9obRfRT3VZ9Y3uGwCURVsvkKpWs6
        MW16qgUJlBWvHVwM0XVFVwurYosUpzjWnD5MLnvOBZaH+fEJWwMhnb/gSOG5CiIX
        duYKbRkfyPZfLWKubgV0lt+YZL4oHAe1Vq0vHBwbeWQGykXhVNIrXUijAtRCkK5x
        UTfLlWjur6apyWWlY2ooEWoWIqitB7zKFASFgXgrQpAIhwpehYmL3C37HlxcY6y1
        qHtYbDYdYhfBHHHy/bWU5s4g0a06cU3arrrTn7GmFt4Lol0OyqYd21R/mrgD2Gkx
        OWQ/d0cMrmOQxzYvmL+DCJHplDskQ+1YUAH7CqSKlIganoY0H4h9lquTrW1MOtZS
        +xQ/4H+aJj8h7xv9+HdZkMkMxuGZEm6ftI2jre0lViuSWfJdu3lGvexvx6YH24ld
        b/9HiLMVHBrK1lRdDN6yy66RCkdtcOfr7YW0Dg4Kdlg+73aN4Cpj5scckP4/7HYy
        Fh+u6DEHU9ElBmic/nJcRnnva3O0HYRcIZa71pD9INpEMjmXqhxfUg==
        -----END RSA PRIVATE KEY-----
        """;

    private const string LegacyDes3Public = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDZDUe68BuJwpTlhuzxpbXFGabt
        66SCXZOMlhrOIkbixeBdcnVLF72lCwz1AOYwu/0r26lAjgg6T1tkdpAmQmfcsn0x
        Enr//jjWoiCOMBknvwTjzIZ0pDdCBLTUuZc0N4F5VKxRan9EcBuallCjR5HjRvlD
        HpX95rUCyIBH9JRPYQIDAQAB
        -----END PUBLIC KEY-----
        """;

    private const string Passphrase = "gatehouse-test";

    private readonly TempDirectory _home = new("gatehouse-oci-");

    public void Dispose() => _home.Dispose();

    [Fact]
    public void Signer_ExampleRequest_GivesOcisDocumentedSigningStringAndSignature()
    {
        using var key = RSA.Create();
        key.ImportFromPem(ExampleKey);

        // The example's date is the documentation's own text (5 January 2014 was a Sunday), so it is signed as written.
        var signingString = OciRequestSigner.SigningString("Thu, 05 Jan 2014 21:31:40 GMT", "GET", ExamplePathAndQuery,
            "iaas.us-phoenix-1.oraclecloud.com");
        var authorization = OciRequestSigner.Authorization(ExampleKeyId, OciRequestSigner.Signature(key, signingString));

        Assert.Equal("date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): get " + ExamplePathAndQuery + "\nhost: iaas.us-phoenix-1.oraclecloud.com",
            signingString);
        Assert.Equal($"Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"{ExampleKeyId}\",algorithm=\"rsa-sha256\",signature=\"{ExampleSignature}\"",
            authorization);
    }

    [Fact]
    public void Signer_HttpDate_IsGosHttpTimeFormat() =>
        Assert.Equal("Sun, 05 Jan 2014 21:31:40 GMT", OciRequestSigner.HttpDate(ExampleDate));

    [Fact]
    public void Signer_Signature_VerifiesWithThePublicKeyAndNotForAnotherString()
    {
        using var key = RSA.Create(2048);
        using var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        var text = OciRequestSigner.SigningString("Mon, 07 Dec 2026 15:00:00 GMT", "GET", "/v1/auth/oci/login/web", "127.0.0.1:8200");

        var signature = Convert.FromBase64String(OciRequestSigner.Signature(key, text));

        Assert.True(publicKey.VerifyData(Encoding.UTF8.GetBytes(text), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.False(publicKey.VerifyData(Encoding.UTF8.GetBytes(text.Replace("web", "admin", StringComparison.Ordinal)), signature,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [InlineData(LegacyAesKey, LegacyAesPublic)]
    [InlineData(LegacyDes3Key, LegacyDes3Public)]
    public void PrivateKey_LegacyEncryptedPem_DecryptsWithThePassphrase(string pem, string publicPem)
    {
        using var key = OciPrivateKey.Parse(pem, Passphrase);
        using var expected = RSA.Create();
        expected.ImportFromPem(publicPem);

        Assert.Equal(expected.ExportParameters(false).Modulus, key.ExportParameters(false).Modulus);
        Assert.Contains("decryption password incorrect", Assert.ThrowsAny<CryptographicException>(() => OciPrivateKey.Parse(pem, "wrong")).Message,
            StringComparison.Ordinal);
        Assert.Contains("set pass_phrase", Assert.ThrowsAny<CryptographicException>(() => OciPrivateKey.Parse(pem, "")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrivateKey_Pkcs8EncryptedAndPlainPkcs8_AreRead()
    {
        using var original = RSA.Create(2048);
        var encrypted = original.ExportEncryptedPkcs8PrivateKeyPem(Passphrase,
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000));

        using var fromEncrypted = OciPrivateKey.Parse(encrypted, Passphrase);
        using var fromPlain = OciPrivateKey.Parse(original.ExportPkcs8PrivateKeyPem(), "");

        Assert.Equal(original.ExportParameters(false).Modulus, fromEncrypted.ExportParameters(false).Modulus);
        Assert.Equal(original.ExportParameters(false).Modulus, fromPlain.ExportParameters(false).Modulus);
        Assert.ThrowsAny<CryptographicException>(() => OciPrivateKey.Parse(encrypted, ""));
    }

    [Fact]
    public void ParseProfile_ReadsOnlyTheDefaultProfile_KeysLowerCasedAndTrimmed()
    {
        var profile = OciApiKeyConfiguration.ParseProfile("""
            [ADMIN]
            user=ocid1.user.oc1..admin
            [DEFAULT]
            USER = ocid1.user.oc1..alice
            fingerprint=aa:bb
            # a comment line without an equals sign
            key_file = ~/.oci/key.pem
            [OTHER]
            tenancy=ocid1.tenancy.oc1..other
            """.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.NotNull(profile);
        Assert.Equal("ocid1.user.oc1..alice", profile["user"]);
        Assert.Equal("aa:bb", profile["fingerprint"]);
        Assert.Equal("~/.oci/key.pem", profile["key_file"]);
        Assert.False(profile.ContainsKey("tenancy"));
        Assert.Null(OciApiKeyConfiguration.ParseProfile("[ADMIN]\nuser=x\n"));
    }

    [Fact]
    public async Task KeyId_EnvironmentFirst_ThenOciConfig_ThenOciConfigFileVariable_ThenOraclebmc()
    {
        var env = new Dictionary<string, string> { ["HOME"] = _home.Path };
        var configuration = new OciApiKeyConfiguration(env.GetValueOrDefault);

        Assert.Contains("did not find a proper configuration for key id", (await configuration.KeyIdAsync(default)).Error, StringComparison.Ordinal);

        WriteConfig(Path.Combine(_home.Path, ".oraclebmc", "config"), "ocid1.user.oc1..bmc", "11:11");
        Assert.Equal("ocid1.tenancy.oc1..t/ocid1.user.oc1..bmc/11:11", (await configuration.KeyIdAsync(default)).KeyId);

        var other = _home.Combine("elsewhere.conf");
        WriteConfig(other, "ocid1.user.oc1..elsewhere", "22:22");
        env[OciApiKeyConfiguration.ConfigFileVariable] = other;
        Assert.Equal("ocid1.tenancy.oc1..t/ocid1.user.oc1..elsewhere/22:22", (await configuration.KeyIdAsync(default)).KeyId);

        // ~/.oci/config wins over OCI_CONFIG_FILE whenever it exists (the SDK reads the variable only as a fallback).
        WriteConfig(Path.Combine(_home.Path, ".oci", "config"), "ocid1.user.oc1..home", "33:33");
        Assert.Equal("ocid1.tenancy.oc1..t/ocid1.user.oc1..home/33:33", (await configuration.KeyIdAsync(default)).KeyId);

        env["OCI_tenancy_ocid"] = "ocid1.tenancy.oc1..env";
        env["OCI_user_ocid"] = "ocid1.user.oc1..env";
        env["OCI_fingerprint"] = "44:44";
        Assert.Equal("ocid1.tenancy.oc1..env/ocid1.user.oc1..env/44:44", (await configuration.KeyIdAsync(default)).KeyId);
    }

    [Fact]
    public async Task PrivateKey_KeyFileWithTildeAndPassPhrase_IsRead_AndAMissingFileIsNamed()
    {
        var env = new Dictionary<string, string> { ["HOME"] = _home.Path };
        var configuration = new OciApiKeyConfiguration(env.GetValueOrDefault);
        Directory.CreateDirectory(Path.Combine(_home.Path, ".oci"));
        WriteConfig(Path.Combine(_home.Path, ".oci", "config"), "ocid1.user.oc1..u", "55:55", "~/.oci/legacy.pem", $"pass_phrase = {Passphrase}");

        var (missing, error) = await configuration.PrivateKeyAsync(default);
        Assert.Null(missing);
        Assert.Contains(Path.Combine(_home.Path, ".oci", "legacy.pem") + " can not be read", error, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(_home.Path, ".oci", "legacy.pem"), LegacyAesKey);
        var (key, _) = await configuration.PrivateKeyAsync(default);
        using var expected = RSA.Create();
        expected.ImportFromPem(LegacyAesPublic);
        Assert.Equal(expected.ExportParameters(false).Modulus, key!.ExportParameters(false).Modulus);
        key.Dispose();
    }

    [Fact]
    public async Task Login_SignsAGetOfTheLoginPath_AndSendsItsHeadersAsGoHttpHeader()
    {
        using var key = RSA.Create(2048);
        var env = new Dictionary<string, string> { ["HOME"] = _home.Path };
        var keyFile = _home.Combine("key.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        WriteConfig(Path.Combine(_home.Path, ".oci", "config"), "ocid1.user.oc1..u", "66:66", keyFile);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero));
        var method = Method(env, time, role: "Web");
        using var client = new Gatehouse.Vault.VaultClient(new HttpMessageInvoker(new HttpClientHandler()), new Uri("https://vault.example.com:443"),
            null, time);

        var request = await method.PrepareLoginAsync(client, default);

        Assert.Null(request.Error);
        Assert.Equal("auth/oci/login/Web", request.LoginPath);
        var headers = request.JsonBody!["request_headers"]!.AsObject();
        Assert.Equal(["(request-target)", "Authorization", "Date", "Host"], headers.Select(h => h.Key));
        Assert.Equal("get /v1/auth/oci/login/Web", headers["(request-target)"]![0]!.ToString());
        Assert.Equal("vault.example.com:443", headers["Host"]![0]!.ToString());
        Assert.Equal("Mon, 07 Dec 2026 15:00:00 GMT", headers["Date"]![0]!.ToString());
        var authorization = headers["Authorization"]![0]!.ToString();
        Assert.StartsWith("Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"ocid1.tenancy.oc1..t/ocid1.user.oc1..u/66:66\",algorithm=\"rsa-sha256\",signature=\"",
            authorization, StringComparison.Ordinal);
        var signature = Convert.FromBase64String(authorization.Split("signature=\"")[1].TrimEnd('"'));
        var text = "date: Mon, 07 Dec 2026 15:00:00 GMT\n(request-target): get /v1/auth/oci/login/Web\nhost: vault.example.com:443";
        Assert.True(key.VerifyData(Encoding.UTF8.GetBytes(text), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.DoesNotContain("PRIVATE", request.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_WithoutAKeyFile_FailsNamingTheFile()
    {
        var env = new Dictionary<string, string> { ["HOME"] = _home.Path };
        WriteConfig(Path.Combine(_home.Path, ".oci", "config"), "ocid1.user.oc1..u", "77:77", _home.Combine("gone.pem"));
        using var client = new Gatehouse.Vault.VaultClient(new HttpMessageInvoker(new HttpClientHandler()), new Uri("http://127.0.0.1:8200"),
            null, TimeProvider.System);

        var request = await Method(env, new FakeTimeProvider()).PrepareLoginAsync(client, default);

        Assert.StartsWith("error signing authentication request: did not find a proper configuration for private key", request.Error, StringComparison.Ordinal);
        Assert.Contains(_home.Combine("gone.pem") + " can not be read", request.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialPoll_ReportsOnlyAChangedKeyId()
    {
        var env = new Dictionary<string, string> { ["HOME"] = _home.Path };
        var config = Path.Combine(_home.Path, ".oci", "config");
        WriteConfig(config, "ocid1.user.oc1..u", "88:88");
        var method = Method(env, new FakeTimeProvider(), pollInterval: "90s");
        Assert.Equal(TimeSpan.FromSeconds(90), method.CredentialPollInterval);

        await method.CheckCredentialsAsync(default);
        await method.CheckCredentialsAsync(default);
        Assert.False(method.NewCredentials.TryRead(out _));

        WriteConfig(config, "ocid1.user.oc1..u", "99:99");
        await method.CheckCredentialsAsync(default);
        Assert.True(method.NewCredentials.TryRead(out _));

        File.Delete(config);
        await method.CheckCredentialsAsync(default);
        Assert.False(method.NewCredentials.TryRead(out _));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8200", "127.0.0.1:8200")]
    [InlineData("https://vault.example.com", "vault.example.com")]
    [InlineData("https://vault.example.com:443/", "vault.example.com:443")]
    [InlineData("https://user@[::1]:8200/path", "[::1]:8200")]
    public void GoHost_IsTheHostAndPortAsConfigured(string address, string expected) =>
        Assert.Equal(expected, OciMethod.GoHost(new Uri(address)));

    private static void WriteConfig(string path, string user, string fingerprint, string? keyFile = null, string extra = "")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"""
            [DEFAULT]
            user={user}
            fingerprint={fingerprint}
            tenancy=ocid1.tenancy.oc1..t
            region=us-phoenix-1
            {(keyFile is null ? "" : $"key_file={keyFile}")}
            {extra}
            """);
    }

    private const string InstanceTenancy = "ocid1.tenancy.oc1..instance";

    /// <summary>A leaf certificate as OCI's metadata service hands it out: the tenancy in an <c>opc-tenant:</c> OU.</summary>
    private static X509Certificate2 Leaf(RSA key, string tenancy = InstanceTenancy) =>
        new CertificateRequest($"CN=ocid1.instance.oc1.iad.x, OU=opc-certtype:instance, OU=opc-tenant:{tenancy}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    private static string Jwt(DateTimeOffset exp) =>
        "eyJhbGciOiJSUzI1NiJ9." + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{{\"exp\":{exp.ToUnixTimeSeconds()}}}")) + ".c2ln";

    [Fact]
    public void Instance_TenancyFromTheLeafSubject_AndTheFederationKeyIdIsTheSha1Fingerprint()
    {
        using var key = RSA.Create(2048);
        using var leaf = Leaf(key);

        Assert.Equal(InstanceTenancy, OciInstancePrincipal.TenancyOf(leaf));
        var hex = leaf.GetCertHashString(); // .NET's SHA-1 thumbprint, upper-case hex
        var expected = string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2).ToLowerInvariant()));
        Assert.Equal($"{InstanceTenancy}/fed-x509/{expected}", OciInstancePrincipal.FederationKeyId(InstanceTenancy, leaf));
        using var other = new CertificateRequest("CN=no tenancy", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        Assert.Null(OciInstancePrincipal.TenancyOf(other));
    }

    [Theory]
    [InlineData("iad", null, "https://auth.us-ashburn-1.oraclecloud.com/v1/x509")]
    [InlineData("eu-frankfurt-1", null, "https://auth.eu-frankfurt-1.oraclecloud.com/v1/x509")]
    [InlineData("us-gov-phoenix-1", null, "https://auth.us-gov-phoenix-1.oraclegovcloud.com/v1/x509")]
    [InlineData("ltn", null, "https://auth.uk-gov-london-1.oraclegovcloud.uk/v1/x509")]
    [InlineData("nja", null, "https://auth.ap-chiyoda-1.oraclecloud8.com/v1/x509")]
    [InlineData("xx-new-1", null, "https://auth.xx-new-1.oraclecloud.com/v1/x509")]
    [InlineData("iad", "http://127.0.0.1:9999", "http://127.0.0.1:9999/v1/x509")]
    [InlineData("iad", "auth.example.test", "https://auth.example.test/v1/x509")]
    public void Instance_FederationUrl_FromTheRegionAndRealm_OrTheSdkOverride(string region, string? overridden, string expected)
    {
        var principal = new OciInstancePrincipal(name => name == OciInstancePrincipal.FederationUrlVariable ? overridden : null, TimeProvider.System);
        Assert.Equal(expected, principal.FederationUrl(region).ToString());
    }

    [Fact]
    public void Instance_TokenExpiry_IsTheJwtExpClaim()
    {
        var exp = new DateTimeOffset(2026, 12, 7, 16, 0, 0, TimeSpan.Zero);
        Assert.Equal(exp, OciInstancePrincipal.TokenExpiry(Jwt(exp)));
        Assert.Null(OciInstancePrincipal.TokenExpiry("not-a-jwt"));
        Assert.Null(OciInstancePrincipal.TokenExpiry("a.e30.c"));
    }

    /// <summary>
    /// The whole client side against a scripted metadata service and federation endpoint: the metadata requests carry
    /// <c>Authorization: Bearer Oracle</c>; the federation POST has the SDK's body and signed headers, verifiable with the
    /// leaf key; the login is signed with the session key under <c>ST$&lt;token&gt;</c>; the token is reused until 5
    /// minutes before its exp.
    /// </summary>
    [Fact]
    public async Task Instance_FederatesWithTheLeafKey_SignsTheLoginWithTheSessionKey_AndReusesTheTokenUntilNearExpiry()
    {
        using var instance = new InstanceFixture();
        var (leafKey, leaf, time, requests, method) = (instance.LeafKey, instance.LeafCertificate, instance.Time, instance.Requests, instance.Method);
        using var client = new Gatehouse.Vault.VaultClient(new HttpMessageInvoker(new HttpClientHandler()), new Uri("https://vault.example.com:8200"), null, time);

        var login = await method.PrepareLoginAsync(client, default);
        var token = instance.LastToken;

        Assert.Null(login.Error);
        Assert.Equal(["http://metadata.test/opc/v2/instance/region", "http://metadata.test/opc/v2/identity/cert.pem", "http://metadata.test/opc/v2/identity/key.pem",
            "http://metadata.test/opc/v2/identity/intermediate.pem", "http://auth.test/v1/x509"], requests.Select(r => r.Request.RequestUri!.ToString()));
        Assert.All(requests.Take(4), r => Assert.Equal("Bearer Oracle", r.Request.Headers.Authorization!.ToString()));

        // The federation request: the SDK's body and signature.
        var (post, postBody) = requests[4];
        Assert.Equal(HttpMethod.Post, post.Method);
        var json = System.Text.Json.Nodes.JsonNode.Parse(postBody)!.AsObject();
        Assert.Equal(["certificate", "publicKey", "intermediateCertificates"], json.Select(p => p.Key));
        Assert.Equal(Convert.ToBase64String(leaf.RawData), json["certificate"]!.ToString());
        Assert.Equal("SU5URVJNRURJQVRF", json["intermediateCertificates"]![0]!.ToString());
        var date = "Mon, 07 Dec 2026 15:00:00 GMT";
        Assert.Equal(date, post.Headers.GetValues("Date").Single());
        var digest = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(postBody)));
        Assert.Equal(digest, post.Headers.GetValues("x-content-sha256").Single());
        var authorization = post.Headers.GetValues("Authorization").Single();
        var keyId = OciInstancePrincipal.FederationKeyId(InstanceTenancy, leaf);
        Assert.StartsWith($"Signature version=\"1\",headers=\"date (request-target) content-length content-type x-content-sha256\",keyId=\"{keyId}\",algorithm=\"rsa-sha256\",signature=\"",
            authorization, StringComparison.Ordinal);
        var signing = $"date: {date}\n(request-target): post /v1/x509\ncontent-length: {Encoding.UTF8.GetByteCount(postBody)}\ncontent-type: application/json\nx-content-sha256: {digest}";
        Assert.True(leafKey.VerifyData(Encoding.UTF8.GetBytes(signing), Convert.FromBase64String(authorization.Split("signature=\"")[1].TrimEnd('"')),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        // The login: signed with the session key, keyId ST$<token>.
        var loginAuthorization = login.JsonBody!["request_headers"]!["Authorization"]![0]!.ToString();
        Assert.Contains($"keyId=\"ST${token}\"", loginAuthorization, StringComparison.Ordinal);
        using var session = RSA.Create();
        session.ImportSubjectPublicKeyInfo(Convert.FromBase64String(instance.SessionPublicKey!), out _);
        var loginSigning = "date: Mon, 07 Dec 2026 15:00:00 GMT\n(request-target): get /v1/auth/oci/login/web\nhost: vault.example.com:8200";
        Assert.True(session.VerifyData(Encoding.UTF8.GetBytes(loginSigning), Convert.FromBase64String(loginAuthorization.Split("signature=\"")[1].TrimEnd('"')),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        // Reused while more than 5 minutes are left; renewed after.
        time.Advance(TimeSpan.FromMinutes(14));
        Assert.Null((await method.PrepareLoginAsync(client, default)).Error);
        Assert.Equal(5, requests.Count);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null((await method.PrepareLoginAsync(client, default)).Error);
        Assert.Equal(10, requests.Count);
    }

    [Fact]
    public async Task Instance_MetadataRefusal_FailsNamingThePathAndTheService()
    {
        var handler = new ScriptedHandler(_ => Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized) { Content = new StringContent("no") }));
        var principal = new OciInstancePrincipal(_ => null, new FakeTimeProvider(), new HttpMessageInvoker(handler));

        var (session, error) = await principal.SessionAsync(default);

        Assert.Null(session);
        Assert.Equal("failed to get instance/region from the instance metadata service at http://169.254.169.254/opc/v2: 401 Unauthorized: no", error);
    }

    /// <summary>Vault Agent's poller calls the SDK's KeyID(), ST$&lt;token&gt;: a token renewed near its expiry is new credentials.</summary>
    [Fact]
    public async Task Instance_CredentialPoll_ReportsARenewedSecurityTokenAsNewCredentials_WithoutLoggingIt()
    {
        using var instance = new InstanceFixture();
        using var client = new Gatehouse.Vault.VaultClient(new HttpMessageInvoker(new HttpClientHandler()), new Uri("https://vault.example.com:8200"), null, instance.Time);
        Assert.Null((await instance.Method.PrepareLoginAsync(client, default)).Error);

        instance.Time.Advance(TimeSpan.FromMinutes(10));
        await instance.Method.CheckCredentialsAsync(default);
        Assert.False(instance.Method.NewCredentials.TryRead(out _));

        instance.Time.Advance(TimeSpan.FromMinutes(6));
        await instance.Method.CheckCredentialsAsync(default);
        Assert.True(instance.Method.NewCredentials.TryRead(out _));
        Assert.Equal(10, instance.Requests.Count);
    }

    [Fact]
    public async Task Instance_LeafTenancyChangedAtRenewal_IsRefusedAsTheSdkRefusesIt()
    {
        using var instance = new InstanceFixture();
        using var client = new Gatehouse.Vault.VaultClient(new HttpMessageInvoker(new HttpClientHandler()), new Uri("https://vault.example.com:8200"), null, instance.Time);
        Assert.Null((await instance.Method.PrepareLoginAsync(client, default)).Error);
        using var original = instance.LeafCertificate;
        instance.LeafCertificate = Leaf(instance.LeafKey, "ocid1.tenancy.oc1..other");

        instance.Time.Advance(TimeSpan.FromMinutes(16));
        var login = await instance.Method.PrepareLoginAsync(client, default);

        Assert.Equal("error signing authentication request: instance principal: unexpected update of tenancy OCID in the leaf certificate. " +
            $"Previous tenancy: {InstanceTenancy}, Updated: ocid1.tenancy.oc1..other", login.Error);
    }

    [Fact]
    public async Task Instance_NoOpcV2Region_AsksOpcV1_AsTheSdk()
    {
        var asked = new List<string>();
        var handler = new ScriptedHandler(request =>
        {
            asked.Add(request.RequestUri!.ToString());
            var status = request.RequestUri.AbsolutePath.StartsWith("/opc/v2/", StringComparison.Ordinal) ? System.Net.HttpStatusCode.NotFound : System.Net.HttpStatusCode.Forbidden;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent("") });
        });
        var principal = new OciInstancePrincipal(_ => null, new FakeTimeProvider(), new HttpMessageInvoker(handler));

        var (_, error) = await principal.SessionAsync(default);

        Assert.Equal(["http://169.254.169.254/opc/v2/instance/region", "http://169.254.169.254/opc/v1/instance/region"], asked);
        Assert.StartsWith("failed to get instance/region from the instance metadata service at http://169.254.169.254/opc/v1: 403", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// An instance-principal oci method against a scripted metadata service (region <c>iad</c>, a self-signed leaf
    /// with <c>opc-tenant:</c>) and federation endpoint that answers tokens expiring 20 minutes from the test clock.
    /// </summary>
    private sealed class InstanceFixture : IDisposable
    {
        public InstanceFixture()
        {
            LeafCertificate = Leaf(LeafKey);
            var handler = new ScriptedHandler(async request =>
            {
                var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync();
                Requests.Add((request, body));
                if (request.RequestUri!.AbsolutePath == "/v1/x509")
                {
                    SessionPublicKey = System.Text.Json.Nodes.JsonNode.Parse(body)!["publicKey"]!.ToString();
                    LastToken = Jwt(Time.GetUtcNow().AddMinutes(20));
                }

                var answer = request.RequestUri.AbsolutePath switch
                {
                    "/opc/v2/instance/region" => "iad",
                    "/opc/v2/identity/cert.pem" => LeafCertificate.ExportCertificatePem(),
                    "/opc/v2/identity/key.pem" => LeafKey.ExportRSAPrivateKeyPem(),
                    "/opc/v2/identity/intermediate.pem" => "-----BEGIN CERTIFICATE-----\nSU5URVJNRURJQVRF\n-----END CERTIFICATE-----\n",
                    "/v1/x509" => $"{{\"token\":\"{LastToken}\"}}",
                    _ => null,
                };
                return new HttpResponseMessage(answer is null ? System.Net.HttpStatusCode.NotFound : System.Net.HttpStatusCode.OK) { Content = new StringContent(answer ?? "") };
            });
            var env = new Dictionary<string, string>
            {
                [OciInstancePrincipal.MetadataBaseUrlVariable] = "http://metadata.test/opc/v2/",
                [OciInstancePrincipal.FederationUrlVariable] = "http://auth.test",
            };
            var values = ImmutableDictionary<string, HclNode>.Empty.Add("type", new HclString("instance", default)).Add("role", new HclString("web", default));
            Method = new OciMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"oci\""), "auth/oci",
                env.GetValueOrDefault, Time, NullLogger.Instance, new HttpMessageInvoker(handler));
        }

        public RSA LeafKey { get; } = RSA.Create(2048);

        public X509Certificate2 LeafCertificate { get; set; }

        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero));

        public List<(HttpRequestMessage Request, string Body)> Requests { get; } = [];

        public string? SessionPublicKey { get; private set; }

        public string? LastToken { get; private set; }

        public OciMethod Method { get; }

        public void Dispose()
        {
            LeafCertificate.Dispose();
            LeafKey.Dispose();
        }
    }

    private sealed class ScriptedHandler(Func<HttpRequestMessage, Task<HttpResponseMessage>> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => respond(request);
    }

    private static OciMethod Method(Dictionary<string, string> environment, TimeProvider time, string role = "web", string? pollInterval = null)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("apikey", default))
            .Add("role", new HclString(role, default));
        if (pollInterval is not null)
        {
            values = values.Add("credential_poll_interval", new HclString(pollInterval, default));
        }

        return new OciMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"oci\""), "auth/oci",
            environment.GetValueOrDefault, time, NullLogger.Instance);
    }
}
