using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>A test Alibaba Cloud identity: the keys DevVault's stubbed STS knows, and the ARN it names for them.</summary>
internal sealed record AlicloudTestIdentity(string AccessKey, string Secret, string Arn, string? SecurityToken = null, bool Expired = false)
{
    public const string Account = "5138828231865461";
    public const string RoleArn = $"acs:ram::{Account}:role/web-role";

    /// <summary>A RAM user's key: signs AssumeRole; Vault refuses it for login (user ARNs are not supported).</summary>
    public static readonly AlicloudTestIdentity User = new("LTAI5tGatehouseUser01", "user-secret/Xq3+EXAMPLE", $"acs:ram::{Account}:user/ci-runner");

    /// <summary>STS keys of an assumed web-role session, as one would configure access_key/access_secret/access_token.</summary>
    public static readonly AlicloudTestIdentity Session = new("STS.NUgatehouseSession1", "session-secret/EXAMPLE1",
        $"acs:ram::{Account}:assumed-role/web-role/gatehouse", "CAISgatehouseSessionTokenEXAMPLE1");

    /// <summary>What the STS emulator's AssumeRole hands out for the web role.</summary>
    public static readonly AlicloudTestIdentity Assumed = new("STS.NUgatehouseAssumed1", "assumed-secret/EXAMPLE2",
        $"acs:ram::{Account}:assumed-role/web-role/gatehouse-agent", "CAISgatehouseAssumedTokenEXAMPLE2");

    /// <summary>The ECS instance's RAM role keys, and the ones it rotates to.</summary>
    public static readonly AlicloudTestIdentity Ecs = new("STS.NUgatehouseEcs1", "ecs-secret/EXAMPLE3",
        $"acs:ram::{Account}:assumed-role/web-role/i-ecs0abc", "CAISgatehouseEcsTokenEXAMPLE3");

    public static readonly AlicloudTestIdentity EcsRotated = new("STS.NUgatehouseEcs2", "ecs-secret/EXAMPLE4",
        $"acs:ram::{Account}:assumed-role/web-role/i-ecs0abc", "CAISgatehouseEcsTokenEXAMPLE4");

    public static readonly AlicloudTestIdentity ExpiredSession = new("STS.NUgatehouseExpired", "expired-secret/EXAMPLE5",
        $"acs:ram::{Account}:assumed-role/web-role/gatehouse", "CAISgatehouseExpiredTokenEXAMPLE5", Expired: true);

    public static readonly AlicloudTestIdentity[] All = [User, Session, Assumed, Ecs, EcsRotated, ExpiredSession];

    public object ToDevVault() => new { access_key = AccessKey, access_secret = Secret, arn = Arn, security_token = SecurityToken, expired = Expired };

    public object ToMetadata() => new
    {
        AccessKeyId = AccessKey, AccessKeySecret = Secret, SecurityToken, Code = "Success",
        Expiration = "2026-12-31T00:00:00Z", LastUpdated = "2026-12-07T00:00:00Z",
    };
}

/// <summary>DevVault's alicloud backend set up as the tests use it.</summary>
internal static class AlicloudSetup
{
    public const string Login = "/v1/auth/alicloud/login";

    public static async Task EnableAsync(OpsHarness h)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/alicloud", new { type = "alicloud" });
        await h.RootAsync(HttpMethod.Post, "auth/alicloud/dev/sts_identities", new { identities = AlicloudTestIdentity.All.Select(i => i.ToDevVault()).ToArray() });
        await h.RootAsync(HttpMethod.Post, "auth/alicloud/role/web", new { arn = AlicloudTestIdentity.RoleArn, policies = "all", token_ttl = "1h" });
    }
}

/// <summary>
/// The ECS metadata service as alibaba-cloud-sdk-go reads it: a session token (PUT /latest/api/token), the instance's
/// RAM role name, and that role's current keys (which a test can rotate).
/// </summary>
internal sealed class EcsMetadataEmulator : IAsyncDisposable
{
    private readonly TestUpstream _upstream;

    private EcsMetadataEmulator(TestUpstream upstream)
    {
        _upstream = upstream;
        upstream.Handler = HandleAsync;
    }

    public string Address => _upstream.Address;

    public string RoleName { get; set; } = "web-role";

    public AlicloudTestIdentity Credentials { get; set; } = AlicloudTestIdentity.Ecs;

    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<EcsMetadataEmulator> StartAsync() => new(await TestUpstream.StartAsync());

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var token = context.Request.Headers["X-aliyun-ecs-metadata-token"].ToString();
        Requests.Enqueue($"{context.Request.Method} {path}{(token == "meta-token" ? " (token)" : "")}");
        const string credentials = "/latest/meta-data/ram/security-credentials/";
        if (context.Request.Method == "PUT" && path == "/latest/api/token")
        {
            await context.Response.WriteAsync(context.Request.Headers["X-aliyun-ecs-metadata-token-ttl-seconds"] == "21600" ? "meta-token" : "");
            return;
        }

        if (path == credentials)
        {
            await context.Response.WriteAsync(RoleName);
        }
        else if (path == credentials + RoleName)
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(Credentials.ToMetadata()));
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();
}

/// <summary>
/// Alibaba Cloud STS's AssumeRole as the SDK calls it: POST, the call's parameters in the query and the role's in the
/// form body, signed (RPC signature v1, checked here with its own encoding) with <see cref="AlicloudTestIdentity.User"/>'s
/// secret. Answers the <see cref="AlicloudTestIdentity.Assumed"/> keys for the web role.
/// </summary>
internal sealed class AlicloudStsEmulator : IAsyncDisposable
{
    private readonly TestUpstream _upstream;

    private AlicloudStsEmulator(TestUpstream upstream)
    {
        _upstream = upstream;
        upstream.Handler = HandleAsync;
    }

    public string Address => _upstream.Address;

    public ConcurrentQueue<Dictionary<string, string>> AssumeRoleCalls { get; } = new();

    public static async Task<AlicloudStsEmulator> StartAsync() => new(await TestUpstream.StartAsync());

    private static Dictionary<string, string> Form(string text) => text.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')),
            p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "", StringComparer.Ordinal);

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var all = Form(context.Request.QueryString.Value ?? "");
        foreach (var (key, value) in Form(await reader.ReadToEndAsync()))
        {
            all[key] = value;
        }

        AssumeRoleCalls.Enqueue(all);
        var signature = all.GetValueOrDefault("Signature", "");
        all.Remove("Signature");
        var canonical = string.Join("&", all.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
#pragma warning disable CA5350 // Alibaba's signature version 1.0 is HMAC-SHA1.
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(AlicloudTestIdentity.User.Secret + "&"),
            Encoding.UTF8.GetBytes($"{context.Request.Method}&%2F&{Uri.EscapeDataString(canonical)}")));
#pragma warning restore CA5350
        context.Response.ContentType = "application/json";
        if (all.GetValueOrDefault("AccessKeyId") != AlicloudTestIdentity.User.AccessKey || expected != signature)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("""{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation."}""");
            return;
        }

        if (all.GetValueOrDefault("Action") != "AssumeRole" || all.GetValueOrDefault("RoleArn") != AlicloudTestIdentity.RoleArn)
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("""{"Code":"EntityNotExist.Role","Message":"The role not exists."}""");
            return;
        }

        var assumed = AlicloudTestIdentity.Assumed;
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            RequestId = "6894B13B-6D71-4EF5-88FA-F32781734A7F",
            AssumedRoleUser = new { Arn = assumed.Arn, AssumedRoleId = "34458433936495****:gatehouse-agent" },
            Credentials = new { AccessKeyId = assumed.AccessKey, AccessKeySecret = assumed.Secret, SecurityToken = assumed.SecurityToken, Expiration = "2026-12-31T00:00:00Z" },
        }));
    }

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();
}
