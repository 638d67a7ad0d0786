using System.Collections.Immutable;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The gcp method's metadata request, as Vault Agent's <c>auth/gcp</c> method (type gce) builds it.</summary>
public sealed class GcpMethodTests
{
    private static GcpMethod Method(string? metadataHost, params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("gce", default))
            .Add("role", new HclString("web role", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new GcpMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"gcp\""), "auth/gcp", metadataHost,
            new FakeTimeProvider());
    }

    [Fact]
    public void Gcp_IdentityUri_IsVaultAgentsMetadataHost_TheDefaultAccount_AndAnAudienceOfTheVaultAddressAndRole()
    {
        var uri = Method(metadataHost: null).IdentityUri("https://vault.example.com:8200");

        Assert.Equal(
            "http://metadata/computeMetadata/v1/instance/service-accounts/default/identity" +
            "?audience=https%3A%2F%2Fvault.example.com%3A8200%2Fvault%2Fweb%20role&format=full",
            uri.AbsoluteUri);
    }

    [Fact]
    public void Gcp_IdentityUri_HonoursGceMetadataHostAndServiceAccount()
    {
        var uri = Method("127.0.0.1:8989", ("service_account", "app@p.iam.gserviceaccount.com")).IdentityUri("http://127.0.0.1:8200");

        Assert.Equal("127.0.0.1:8989", uri.Authority);
        Assert.Equal("/computeMetadata/v1/instance/service-accounts/app@p.iam.gserviceaccount.com/identity", Uri.UnescapeDataString(uri.AbsolutePath));
    }

    private static AuthMethodConfig Config(string type) => new()
    {
        Type = "gcp",
        Config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString(type, default)).Add("role", new HclString("web", default)), default),
    };

    [Fact]
    public void Gcp_IsCreatedByTheFactory_WithTheHostFromTheGivenEnvironment()
    {
        var method = Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), Config("gce"), new FakeTimeProvider(),
            NullLoggerFactory.Instance, name => name == GcpMethod.MetadataHostVariable ? "169.254.169.254" : null));

        Assert.Equal("169.254.169.254", method.IdentityUri("http://v").Host);
    }

    private static AuthMethodConfig IamConfig(params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("iam", default)).Add("role", new HclString("web", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new AuthMethodConfig { Type = "gcp", Config = new ConfigMap(values, default) };
    }

    private static GcpIamSigner Iam(FakeTimeProvider time, Func<string, string?> environment, params (string Key, string Value)[] extra) =>
        Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), IamConfig(extra), time, NullLoggerFactory.Instance, environment)).Iam!;

    [Fact]
    public void GcpIam_Payload_IsVaultAgentsClaims_ExpiringFifteenMinutesFromTheInjectedNow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

        Assert.Equal("{\"aud\":\"http://vault/web\",\"exp\":1800000900,\"sub\":\"sa@p.iam.gserviceaccount.com\"}",
            Iam(time, _ => null).Payload("sa@p.iam.gserviceaccount.com"));
        Assert.Equal("{\"aud\":\"http://vault/web\",\"exp\":1800000300,\"sub\":\"x\"}", Iam(time, _ => null, ("jwt_exp", "5")).Payload("x"));
        Assert.Contains("\"exp\":1800000900", Iam(time, _ => null, ("jwt_exp", "0")).Payload("x"), StringComparison.Ordinal);
    }

    [Fact]
    public void GcpIam_SignJwtUri_IsGooglesIamCredentialsApi_OrTheGatehouseOverride()
    {
        var time = new FakeTimeProvider();

        Assert.Equal("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:signJwt?alt=json&prettyPrint=false",
            Iam(time, _ => null).SignJwtUri("sa@p.iam.gserviceaccount.com").OriginalString);
        Assert.StartsWith("http://127.0.0.1:9/v1/projects/-/serviceAccounts/",
            Iam(time, _ => null, ("iam_credentials_endpoint", "http://127.0.0.1:9/")).SignJwtUri("a").OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GcpIam_NoCredentialsAndNotOnGce_FailsWithGooglesMessage_WithoutNetwork()
    {
        using var home = new TempHome();
        var signer = new GcpIamSigner("web", null, null, 0, null, name => name == "HOME" ? home.Path : null, new FakeTimeProvider(),
            new HttpMessageInvoker(new SocketsHttpHandler()), onComputeEngine: () => Task.FromResult(false));

        var (jwt, error) = await signer.SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.StartsWith("could not obtain credentials: google: could not find default credentials.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GcpIam_EmptyServiceAccountWithMetadataCredentials_AsksForOne_AsVaultAgent()
    {
        using var home = new TempHome();
        var method = Assert.IsType<GcpMethod>(AuthMethodFactory.Create(new GatehouseConfig(), IamConfig(("service_account", "")), new FakeTimeProvider(),
            NullLoggerFactory.Instance, name => name switch { "HOME" => home.Path, GcpMethod.MetadataHostVariable => "127.0.0.1:9", _ => null }));

        var (jwt, error) = await method.Iam!.SignAsync(CancellationToken.None);

        Assert.Null(jwt);
        Assert.StartsWith("could not obtain service account from credentials", error, StringComparison.Ordinal);
    }

    private sealed class TempHome : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("gatehouse-gcp-home-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
