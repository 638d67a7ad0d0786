using System.Collections.Immutable;
using Amazon.Runtime;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The aws method's settings and the STS endpoint it names, as Vault's awsutil (aws-sdk-go v1) picks it.</summary>
public sealed class AwsMethodTests
{
    private static AwsMethod Method(Dictionary<string, string>? environment = null, params (string Key, string Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("type", new HclString("iam", default))
            .Add("role", new HclString("web", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, new HclString(value, default));
        }

        return new AwsMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"aws\""), "auth/aws",
            name => environment?.GetValueOrDefault(name), new FakeTimeProvider(), NullLogger.Instance,
            _ => Task.FromResult(new ImmutableCredentials("AKIA", "secret", null)));
    }

    [Theory]
    [InlineData(null, null, "https://sts.amazonaws.com/")]
    [InlineData("us-east-1", "regional", "https://sts.us-east-1.amazonaws.com/")]
    [InlineData("eu-west-1", null, "https://sts.amazonaws.com/")]
    [InlineData("eu-west-1", "regional", "https://sts.eu-west-1.amazonaws.com/")]
    [InlineData("eu-central-2", null, "https://sts.eu-central-2.amazonaws.com/")]
    [InlineData("cn-north-1", null, "https://sts.cn-north-1.amazonaws.com.cn/")]
    [InlineData("aws-global", "regional", "https://sts.amazonaws.com/")]
    public void StsEndpoint_IsTheGlobalOneForLegacyRegions_UnlessRegionalIsAskedFor(string? region, string? regional, string expected)
    {
        var env = regional is null ? null : new Dictionary<string, string> { [AwsMethod.StsRegionalEndpointsVariable] = regional };
        var method = region is null ? Method(env) : Method(env, ("region", region));

        Assert.Equal(expected, method.StsEndpoint());
        Assert.Equal(region ?? "us-east-1", method.Region);
    }

    [Fact]
    public void Region_SetButEmpty_IsLookedUpInTheEnvironment_ThenDefaults()
    {
        Assert.Equal("ap-south-2", Method(new() { ["AWS_REGION"] = "ap-south-2", ["AWS_DEFAULT_REGION"] = "sa-east-1" }, ("region", "")).Region);
        Assert.Equal("sa-east-1", Method(new() { ["AWS_DEFAULT_REGION"] = "sa-east-1" }, ("region", "")).Region);
        Assert.Equal("us-east-1", Method(null, ("region", "")).Region);
        Assert.Equal("us-east-1", Method(new() { ["AWS_REGION"] = "ap-south-2" }).Region);
    }

    [Fact]
    public void Defaults_AreVaultsPollIntervalAndTheLinkLocalMetadataService()
    {
        var method = Method();

        Assert.Equal(TimeSpan.FromSeconds(60), method.CredentialPollInterval);
        Assert.Equal("http://169.254.169.254", method.ImdsEndpoint);
        Assert.Null(method.Nonce);
        Assert.Equal(TimeSpan.FromSeconds(15), Method(null, ("credential_poll_interval", "15")).CredentialPollInterval);
        Assert.Equal("http://127.0.0.1:9", Method(new() { [AwsMethod.ImdsEndpointVariable] = "http://127.0.0.1:9/" }).ImdsEndpoint);
        Assert.Equal("fixed", Method(null, ("type", "ec2"), ("nonce", "fixed")).Nonce);
    }

    [Theory]
    [InlineData("authorization", "Authorization")]
    [InlineData("x-amz-date", "X-Amz-Date")]
    [InlineData("X-Vault-AWS-IAM-Server-ID", "X-Vault-Aws-Iam-Server-Id")]
    [InlineData("x-amz-security-token", "X-Amz-Security-Token")]
    public void HeaderNames_AreCanonicalAsGosHttpHeader(string name, string expected) =>
        Assert.Equal(expected, AwsMethod.CanonicalHeaderKey(name));

    [Fact]
    public async Task Poller_ReportsOnlyChangedCredentials()
    {
        var current = new ImmutableCredentials("AKIA1", "s1", "t1");
        var values = ImmutableDictionary<string, HclNode>.Empty.Add("type", new HclString("iam", default)).Add("role", new HclString("web", default));
        var method = new AwsMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"aws\""), "auth/aws", _ => null,
            new FakeTimeProvider(), NullLogger.Instance, _ => Task.FromResult(current));

        await method.CheckCredentialsAsync(CancellationToken.None);
        await method.CheckCredentialsAsync(CancellationToken.None);
        Assert.False(method.NewCredentials.TryRead(out _));

        current = new ImmutableCredentials("AKIA1", "s1", "t2");
        await method.CheckCredentialsAsync(CancellationToken.None);
        Assert.True(method.NewCredentials.TryRead(out _));
        await method.CheckCredentialsAsync(CancellationToken.None);
        Assert.False(method.NewCredentials.TryRead(out _));
    }
}
