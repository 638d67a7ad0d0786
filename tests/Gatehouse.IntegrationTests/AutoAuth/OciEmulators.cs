using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// An OCI instance as far as instance principals use it, on one loopback server: the instance metadata service
/// (<c>/opc/v2/instance/region</c>, <c>/opc/v2/identity/{cert,key,intermediate}.pem</c>, only with
/// <c>Authorization: Bearer Oracle</c>) and the x509 federation endpoint (<c>POST /v1/x509</c>). A test CA issues the
/// intermediate, which issues the leaf (subject <c>OU=opc-tenant:&lt;tenancy&gt;</c>). The federation endpoint checks the
/// request's signature (<c>date (request-target) content-length content-type x-content-sha256</c>) with the leaf
/// certificate the body carries, the keyId (<c>&lt;tenancy&gt;/fed-x509/&lt;SHA-1 fingerprint&gt;</c>) and the body's
/// digest, and answers <c>{"token": JWT}</c>: RS256 with <see cref="TokenKey"/>, claims <c>sub</c>, <c>tenant</c>,
/// <c>exp</c> (<see cref="TokenLifetime"/> from the test clock) and <c>jwk</c> (the session public key as a JWK string).
/// </summary>
internal sealed class OciInstanceEmulator : IAsyncDisposable
{
    private readonly TestUpstream _upstream;
    private readonly TimeProvider _time;
    private readonly RSA _leafKey = RSA.Create(2048);
    private readonly X509Certificate2 _leaf;
    private readonly X509Certificate2 _intermediate;
    private int _federations;

    private OciInstanceEmulator(TestUpstream upstream, string tenancy, TimeProvider time)
    {
        _upstream = upstream;
        _time = time;
        Tenancy = tenancy;
        var now = DateTimeOffset.UtcNow;
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest("CN=Gatehouse test OCI root", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest("CN=Gatehouse test OCI intermediate", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var issued = intermediateRequest.Create(root, now.AddDays(-1), now.AddYears(1), [1, 2, 3]);
        _intermediate = issued.CopyWithPrivateKey(intermediateKey);
        var leafRequest = new CertificateRequest($"CN=ocid1.instance.oc1.eu-frankfurt-1.gatehouse, OU=opc-certtype:instance, OU=opc-tenant:{tenancy}",
            _leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _leaf = leafRequest.Create(_intermediate, now.AddDays(-1), now.AddDays(30), [4, 5, 6]);
        upstream.Handler = HandleAsync;
    }

    public string Tenancy { get; }

    /// <summary>The key the federation endpoint signs security tokens with (registered with DevVault).</summary>
    public RSA TokenKey { get; } = RSA.Create(2048);

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>When set, the federation endpoint answers 401 NotAuthenticated.</summary>
    public bool Refuse { get; set; }

    /// <summary>Security tokens issued so far.</summary>
    public int Federations => Volatile.Read(ref _federations);

    public string Address => _upstream.Address;

    /// <summary>The environment that points the oci method at this emulator.</summary>
    public string? Environment(string name) => name switch
    {
        "OCI_METADATA_BASE_URL" => $"{Address}/opc/v2",
        "OCI_SDK_AUTH_CLIENT_REGION_URL" => Address,
        _ => null,
    };

    public static async Task<OciInstanceEmulator> StartAsync(string tenancy, TimeProvider time) =>
        new(await TestUpstream.StartAsync(), tenancy, time);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path.StartsWith("/opc/v2/", StringComparison.Ordinal))
        {
            if (context.Request.Headers.Authorization.ToString() != "Bearer Oracle")
            {
                context.Response.StatusCode = 401;
                return;
            }

            string? answer = path["/opc/v2/".Length..] switch
            {
                "instance/region" => "fra",
                "identity/cert.pem" => _leaf.ExportCertificatePem() + "\n",
                "identity/key.pem" => _leafKey.ExportRSAPrivateKeyPem() + "\n",
                "identity/intermediate.pem" => _intermediate.ExportCertificatePem() + "\n",
                _ => null,
            };
            context.Response.StatusCode = answer is null ? 404 : 200;
            await context.Response.WriteAsync(answer ?? "");
            return;
        }

        if (path == "/v1/x509" && context.Request.Method == "POST")
        {
            await FederateAsync(context);
            return;
        }

        context.Response.StatusCode = 404;
    }

    private async Task FederateAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var refusal = Refuse ? "refused by the test" : Check(context.Request, body);
        if (refusal is not null)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { code = "NotAuthenticated", message = refusal });
            return;
        }

        var session = JsonNode.Parse(body)!["publicKey"]!.ToString();
        using var sessionKey = RSA.Create();
        sessionKey.ImportSubjectPublicKeyInfo(Convert.FromBase64String(session), out _);
        var parameters = sessionKey.ExportParameters(false);
        var jwk = JsonSerializer.Serialize(new { kty = "RSA", n = Base64Url(parameters.Modulus!), e = Base64Url(parameters.Exponent!), kid = "session" });
        var header = Base64Url(Encoding.UTF8.GetBytes("""{"alg":"RS256","typ":"JWT"}"""));
        var claims = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new
        {
            sub = "ocid1.instance.oc1.eu-frankfurt-1.gatehouse", tenant = Tenancy, jwk,
            exp = (_time.GetUtcNow() + TokenLifetime).ToUnixTimeSeconds(),
        }));
        var signature = TokenKey.SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Interlocked.Increment(ref _federations);
        await context.Response.WriteAsJsonAsync(new { token = $"{header}.{claims}.{Base64Url(signature)}" });
    }

    /// <summary>Null when the request is signed as the SDK signs it with the leaf key; else why not.</summary>
    private string? Check(HttpRequest request, byte[] body)
    {
        var authorization = request.Headers.Authorization.ToString();
        var parameters = authorization.StartsWith("Signature ", StringComparison.Ordinal)
            ? authorization["Signature ".Length..].Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('"'))
            : [];
        var expectedKeyId = $"{Tenancy}/fed-x509/{_leaf.GetCertHashString().ToLowerInvariant().Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + ":" + b)}";
        if (parameters.GetValueOrDefault("keyId") != expectedKeyId)
        {
            return $"keyId {parameters.GetValueOrDefault("keyId")} is not {expectedKeyId}";
        }

        if (parameters.GetValueOrDefault("headers") != "date (request-target) content-length content-type x-content-sha256")
        {
            return "unexpected signed headers";
        }

        if (request.Headers["x-content-sha256"].ToString() != Convert.ToBase64String(SHA256.HashData(body)))
        {
            return "x-content-sha256 does not match the body";
        }

        var json = JsonNode.Parse(body)!;
        if (json["certificate"]?.ToString() != Convert.ToBase64String(_leaf.RawData)
            || json["intermediateCertificates"]?[0]?.ToString() != Convert.ToBase64String(_intermediate.RawData))
        {
            return "the body's certificate or intermediateCertificates is not the instance's";
        }

        var signing = $"date: {request.Headers.Date}\n(request-target): post {request.Path}\ncontent-length: {request.ContentLength}\n" +
            $"content-type: {request.ContentType}\nx-content-sha256: {request.Headers["x-content-sha256"]}";
        using var leafPublic = _leaf.GetRSAPublicKey()!;
        return leafPublic.VerifyData(Encoding.UTF8.GetBytes(signing), Convert.FromBase64String(parameters.GetValueOrDefault("signature") ?? ""),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) ? null : "the signature does not verify with the leaf certificate";
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _leaf.Dispose();
        _intermediate.Dispose();
        _leafKey.Dispose();
        TokenKey.Dispose();
    }
}
