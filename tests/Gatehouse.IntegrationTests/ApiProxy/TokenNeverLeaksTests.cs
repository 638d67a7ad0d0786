using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// The redaction rule held by what the answer says: whatever the spelling of the path, the method, the body encoding,
/// a wrap header or a redirect, no byte of an answer to a client (nor of what a wrapping token it got unwraps to)
/// carries the auto-auth token or its accessor. Request shapes are generated from a fixed seed, so a failure names
/// a reproducible request.
/// </summary>
public sealed class TokenNeverLeaksTests
{
    private static readonly string[] Endpoints =
    [
        "auth/token/lookup-self", "auth/token/renew-self", "auth/token/lookup", "auth/token/renew",
        "auth/token/lookup-accessor", "secret/data/app", "sys/wrapping/unwrap", "sys/capabilities-self",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "LIST", "DELETE", "PATCH", "OPTIONS"];

    public static TheoryData<string, bool, bool> Chains() => new()
    {
        { "true", false, false }, { "true", true, false }, { "force", false, false }, { "force", true, false },
        { "true", true, true }, { "force", false, true },
    };

    /// <param name="standby">Gatehouse talks to a standby that redirects every request (307, same path) to DevVault, as
    /// a Vault standby points at the active node; Gatehouse follows those redirects itself.</param>
    [Theory]
    [MemberData(nameof(Chains))]
    public async Task GeneratedRequestShapes_NeverGetTheAutoAuthTokenBack(string mode, bool cache, bool standby)
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var direct = new HttpClient { BaseAddress = vault.Address };
        var (token, accessor) = await CreateAutoAuthTokenAsync(direct, vault.RootToken);
        await using var standbyNode = await TestUpstream.StartAsync();
        standbyNode.Handler = context =>
        {
            var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = vault.Address.ToString().TrimEnd('/') + raw;
            return Task.CompletedTask;
        };
        await using var proxy = await ProxyHarness.StartAsync(
            standby ? standbyNode.Address : vault.Address.ToString().TrimEnd('/'),
            new ApiProxyConfig { UseAutoAuthToken = mode == "force" ? AutoAuthTokenMode.Force : AutoAuthTokenMode.WhenMissing },
            configure: cache ? c => c with { Cache = new CacheConfig() } : null);
        proxy.Tokens.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, accessor, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));

        using var noRedirects = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = proxy.Client.BaseAddress };
        using var redirects = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true }) { BaseAddress = proxy.Client.BaseAddress };
        var random = new Random(20261207);
        var leaks = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        for (var i = 0; i < 240; i++)
        {
            var shape = RequestShape.Generate(random);
            var client = i % 3 == 0 ? redirects : noRedirects;
            using var response = await client.SendAsync(shape.ToMessage(proxy.Client.BaseAddress!));
            statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            var answer = Describe(response) + await response.Content.ReadAsStringAsync();
            if (Contains(answer, token, accessor) is { } what)
            {
                leaks.Add($"{shape}: {what} in the answer {(int)response.StatusCode}");
            }
            else if (WrapToken(answer) is { } wrapToken && await UnwrapAsync(direct, wrapToken) is { } unwrapped
                && Contains(unwrapped, token, accessor) is { } wrappedWhat)
            {
                leaks.Add($"{shape}: {wrappedWhat} in what its wrapping token unwraps to");
            }
        }

        Assert.True(leaks.Count == 0, "the auto-auth token came back:\n" + string.Join('\n', leaks.Take(20)));
        Assert.True(!standby || standbyNode.RequestCount > 100, $"the standby saw {standbyNode.RequestCount} requests");

        // The generator reached the endpoints that hold the token: some lookups and renewals succeeded.
        Assert.True(statuses.GetValueOrDefault(200) >= 10, "too few 200s: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
    }

    internal static async Task<(string Token, string Accessor)> CreateAutoAuthTokenAsync(HttpClient direct, string rootToken)
    {
        using var policy = new HttpRequestMessage(HttpMethod.Put, "/v1/sys/policies/acl/agent")
        {
            Content = new StringContent(
                """{"policy":"path \"secret/*\" { capabilities = [\"create\",\"read\",\"update\",\"list\"] }\npath \"auth/token/*\" { capabilities = [\"create\",\"read\",\"update\",\"list\"] }"}""",
                Encoding.UTF8,
                "application/json"),
        };
        policy.Headers.Add("X-Vault-Token", rootToken);
        (await direct.SendAsync(policy)).EnsureSuccessStatusCode();

        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/token/create")
        {
            Content = new StringContent("""{"policies":["agent"],"ttl":"1h"}""", Encoding.UTF8, "application/json"),
        };
        create.Headers.Add("X-Vault-Token", rootToken);
        using var created = await direct.SendAsync(create);
        created.EnsureSuccessStatusCode();
        var auth = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["auth"]!;
        using var write = new HttpRequestMessage(HttpMethod.Put, "/v1/secret/data/app")
        {
            Content = new StringContent("""{"data":{"k":"v"}}""", Encoding.UTF8, "application/json"),
        };
        write.Headers.Add("X-Vault-Token", rootToken);
        (await direct.SendAsync(write)).EnsureSuccessStatusCode();
        return (auth["client_token"]!.GetValue<string>(), auth["accessor"]!.GetValue<string>());
    }

    internal static string? Contains(string answer, string token, string accessor) =>
        answer.Contains(token, StringComparison.Ordinal) ? "the token"
        : answer.Contains(accessor, StringComparison.Ordinal) ? "the accessor"
        : null;

    private static string Describe(HttpResponseMessage response) =>
        string.Concat(response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}\n"));

    private static string? WrapToken(string answer)
    {
        var start = answer.IndexOf("{\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(answer[start..])?["wrap_info"]?["token"]?.GetValue<string>();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task<string?> UnwrapAsync(HttpClient direct, string wrapToken)
    {
        using var unwrap = new HttpRequestMessage(HttpMethod.Post, "/v1/sys/wrapping/unwrap");
        unwrap.Headers.Add("X-Vault-Token", wrapToken);
        using var response = await direct.SendAsync(unwrap);
        return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
    }

    /// <summary>One generated request: a spelling of an endpoint, a method, a body in some encoding, maybe a wrap header.</summary>
    internal sealed record RequestShape(string Method, string Path, string? Body, string? ContentType, string? WrapTtl)
    {
        private static readonly (string? Body, string? ContentType)[] Bodies =
        [
            (null, null), ("", null), ("{}", "application/json"), ("""{"token":""}""", "application/json"),
            ("x", "application/x-www-form-urlencoded"), ("foo=bar", "application/x-www-form-urlencoded"),
            ("token=", "application/x-www-form-urlencoded"), ("x", "text/plain"), ("x", null),
            ("""{"increment":"1h"}""", "application/json"), ("increment=3600", "application/x-www-form-urlencoded"),
            ("[]", "application/json"), ("""{"token":null}""", "application/json"),
        ];

        public static RequestShape Generate(Random random)
        {
            var endpoint = Endpoints[random.Next(Endpoints.Length)];
            var path = Spell(random, endpoint);
            var method = Methods[random.Next(Methods.Length)];
            var (body, contentType) = Bodies[random.Next(Bodies.Length)];
            var wrap = random.Next(4) == 0 ? (random.Next(2) == 0 ? "60s" : "300") : null;
            return new RequestShape(method, path, body, contentType, wrap);
        }

        /// <summary>The endpoint under /v1, spelled as a client might: doubled slashes, dot segments, a trailing slash, percent-encoding.</summary>
        private static string Spell(Random random, string endpoint)
        {
            var segments = ("v1/" + endpoint).Split('/').ToList();
            var builder = new StringBuilder();
            for (var i = 0; i < segments.Count; i++)
            {
                builder.Append('/');
                switch (random.Next(12))
                {
                    case 0:
                        builder.Append('/');
                        break;
                    case 1 when i > 0:
                        builder.Append("./");
                        break;
                    case 2 when i > 0:
                        builder.Append("zz/../");
                        break;
                }

                var segment = segments[i];
                if (random.Next(10) == 0 && segment.Contains('-', StringComparison.Ordinal))
                {
                    segment = segment.Replace("-", "%2D", StringComparison.Ordinal);
                }
                else if (random.Next(10) == 0 && segment.Length > 1)
                {
                    segment = "%" + ((int)segment[0]).ToString("X2", System.Globalization.CultureInfo.InvariantCulture) + segment[1..];
                }

                builder.Append(segment);
            }

            if (random.Next(6) == 0)
            {
                builder.Append('/');
            }

            return builder.ToString();
        }

        /// <summary>The request exactly as spelled: Uri canonicalization would fold the dot segments and escapes.</summary>
        public HttpRequestMessage ToMessage(Uri baseAddress)
        {
            var uri = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + Path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            var message = new HttpRequestMessage(new HttpMethod(Method), uri);
            if (Body is not null)
            {
                message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
                if (ContentType is not null)
                {
                    message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ContentType);
                }
            }

            if (WrapTtl is not null)
            {
                message.Headers.Add("X-Vault-Wrap-TTL", WrapTtl);
            }

            return message;
        }

        public override string ToString() =>
            $"{Method} {Path} body={(Body is null ? "none" : $"'{Body}'")} type={ContentType ?? "none"}{(WrapTtl is null ? "" : $" wrap={WrapTtl}")}";
    }
}
