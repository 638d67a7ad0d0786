using System.Collections.Immutable;
using System.Security.Cryptography;
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
