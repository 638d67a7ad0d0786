using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.JsonPatch.SystemTextJson;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Injector.Tests;

/// <summary>The webhook as the API server meets it: HTTPS on a real loopback port, POST /mutate, GET /healthz.</summary>
public sealed class InjectorHostTests
{
    [Fact]
    public async Task Mutate_OverHttps_AnswersTheReview_AndTheCertificateRotatesWithoutARestart()
    {
        using var dir = new TempDirectory("gatehouse-injector-");
        var certFile = Path.Combine(dir.Path, "tls.crt");
        var keyFile = Path.Combine(dir.Path, "tls.key");
        var first = WritePair(certFile, keyFile, "CN=gatehouse-injector.gatehouse.svc");
        await using var app = InjectorHost.Build(ReviewSupport.Options with { Listen = "127.0.0.1:0", TlsCertFile = certFile, TlsKeyFile = keyFile }, _ => { });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        // The client pins the pair it expects, as the API server pins the webhook's caBundle.
        string? presented = null;
        var expected = first;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()).Thumbprint;
                    return presented == expected;
                },
            },
            PooledConnectionLifetime = TimeSpan.Zero,
        }) { BaseAddress = new Uri(address) };

        var review = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reviews", "deployment-pod-create.json"));
        using var response = await client.PostAsync("/mutate", new StringContent(review, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(answer["response"]!["allowed"]!.GetValue<bool>());
        Assert.Equal(first, presented);
        Assert.Equal("ok\n", await client.GetStringAsync("/healthz"));

        // cert-manager writes a new pair: the next handshake presents it.
        var second = WritePair(certFile, keyFile, "CN=gatehouse-injector.gatehouse.svc");
        expected = second;
        using var again = await client.GetAsync("/healthz");
        Assert.NotEqual(first, second);
        Assert.Equal(second, presented);

        using var bad = await client.PostAsync("/mutate", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public void ThePatchApplierUsedByTheTests_RejectsAPatchThatDoesNotFitThePod()
    {
        var pod = ReviewSupport.Pod(ReviewSupport.Load("bare-pod-create.json")).DeepClone();
        var patch = System.Text.Json.JsonSerializer.Deserialize<JsonPatchDocument>("""[{"op":"add","path":"/spec/initContainers/3","value":{}}]""")!;
        Assert.ThrowsAny<Exception>(() => patch.ApplyTo(pod));
    }

    private static string WritePair(string certFile, string keyFile, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }
}
