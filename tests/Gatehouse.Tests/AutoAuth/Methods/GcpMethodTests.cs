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

    [Fact]
    public void Gcp_TypeIam_IsRefusedByTheFactory_NamingWhatIsMissing()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(), Config("iam"),
            new FakeTimeProvider(), NullLoggerFactory.Instance, _ => null));

        Assert.Contains("type \"iam\" is not supported by Gatehouse yet", error.Message, StringComparison.Ordinal);
        Assert.Contains("signJwt", error.Message, StringComparison.Ordinal);
    }
}
