using System.Collections.Immutable;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The azure method alone against a loopback stand-in for the instance metadata service: what it asks for, how it
/// reads Azure's answers (Go's case-insensitive field matching), and the messages for the service's failures.
/// </summary>
public sealed class AzureMethodTests
{
    private static AzureMethod Method(string imds, params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("role", new HclString("web", default))
            .Add("resource", new HclString("https://vault.example/", default))
            .Add("imds_endpoint", new HclString(imds + "/", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new AzureMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"azure\""), "auth/azure-prod");
    }

    [Fact]
    public void Scope_IsVaultAgentsResourceSlashDefault_UnlessSet()
    {
        Assert.Equal("https://vault.example//.default", Method("http://127.0.0.1:9").Scope);
        Assert.Equal("api://app/.default", Method("http://127.0.0.1:9", ("scope", "api://app/.default")).Scope);
    }

    [Fact]
    public async Task Login_SendsVaultsBody_FromGoCasedMetadata_WithTheObjectId()
    {
        await using var imds = await TestUpstream.StartAsync();
        var queries = new List<string>();
        imds.Handler = async context =>
        {
            queries.Add(context.Request.Path + context.Request.QueryString.Value);
            Assert.Equal("true", context.Request.Headers["Metadata"].ToString());
            await context.Response.WriteAsync(context.Request.Path.Value == "/metadata/instance"
                ? """{"COMPUTE":{"Name":"vm-7","ResourceGroupName":"rg","SubscriptionID":"sub","VMScaleSetName":"pool-a","location":"x"},"network":{}}"""
                : """{"access_token":"eyJ.token.sig","token_type":"Bearer"}""");
        };

        var request = await Method(imds.Address, ("object_id", "oid 1")).PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Null(request.Error);
        Assert.Equal("auth/azure-prod", request.MountPath);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["role"] = "web", ["jwt"] = "eyJ.token.sig", ["subscription_id"] = "sub", ["resource_group_name"] = "rg",
                ["vm_name"] = "vm-7", ["vmss_name"] = "pool-a",
            },
            request.Body!.ToDictionary());
        Assert.Equal(
            [
                "/metadata/instance?api-version=2018-02-01",
                "/metadata/identity/oauth2/token?api-version=2018-02-01&object_id=oid%201&resource=https%3A%2F%2Fvault.example%2F",
            ],
            queries);
        Assert.DoesNotContain("eyJ", request.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetadataFailures_AreVaultsMessages_NamingTheEndpoint()
    {
        await using var imds = await TestUpstream.StartAsync();
        var instance = "not json";
        imds.Handler = async context =>
        {
            if (context.Request.Path.Value == "/metadata/instance")
            {
                await context.Response.WriteAsync(instance);
                return;
            }

            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("""{"error":"invalid_request","error_description":"Identity not found"}""");
        };
        var method = Method(imds.Address);

        var bad = await method.PrepareLoginAsync(null!, CancellationToken.None);
        Assert.StartsWith("error parsing instance metadata response: ", bad.Error, StringComparison.Ordinal);

        instance = """{"compute":{"name":"vm"}}""";
        var refused = await method.PrepareLoginAsync(null!, CancellationToken.None);
        Assert.Equal(
            $"error response in metadata from {imds.Address}/metadata/identity/oauth2/token: {{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}}",
            refused.Error);
    }
}
