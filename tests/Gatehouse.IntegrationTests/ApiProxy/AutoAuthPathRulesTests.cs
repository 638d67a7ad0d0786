using System.Globalization;
using System.Net;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// <c>auto_auth_token_allow_paths</c> / <c>auto_auth_token_deny_paths</c> held by what Vault saw: for generated
/// spellings of allowed and denied paths (doubled slashes, dot segments plain and escaped, <c>%2F</c>, escaped letters,
/// trailing slashes, list queries, a namespace header carrying the first segment, every method), DevVault's record of
/// arrivals says whether the auto-auth token reached it. A denied request never does, and is answered 403 naming the
/// rule; an allowed one does. The expected verdicts are written out by hand from Vault's ACL rules, not computed.
/// </summary>
public sealed class AutoAuthPathRulesTests
{
    private const string ClientToken = "hvs.client-own-token";

    private static readonly string[] Allow = ["secret/data/app1/*", "/secret/metadata/app1/*", "auth/token/lookup-self", "secret/+/shared"];
    private static readonly string[] Deny = ["secret/data/app1/admin*"];

    /// <summary>
    /// Each endpoint with its verdict under <see cref="Allow"/> and <see cref="Deny"/>: read as written, read with a
    /// trailing slash, and as a list (which Vault routes with a trailing slash, a rule for the path without it applying too).
    /// </summary>
    private static readonly (string Endpoint, bool Read, bool ReadSlash, bool List)[] Endpoints =
    [
        ("secret/data/app1/config", true, true, true),
        ("secret/data/app1/admin", false, false, false),
        ("secret/data/app1/administrators/x", false, false, false),
        ("secret/data/app2/config", false, false, false),
        ("secret/metadata/app1", false, true, true),
        ("secret/data/shared", true, false, true),
        ("secret/metadata/shared", true, false, true),
        ("auth/token/lookup-self", true, false, true),
        ("auth/token/lookup", false, false, false),
        ("sys/mounts", false, false, false),
        ("Secret/data/app1/config", false, false, false),
        ("secret/data/APP1/config", false, false, false),
    ];

    private static readonly string[] Methods = ["GET", "GET", "POST", "PUT", "DELETE", "LIST", "HEAD"];

    public static TheoryData<string, bool> Modes() => new() { { "true", false }, { "force", false }, { "true", true }, { "force", true } };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task GeneratedSpellings_DeniedNeverReachVaultWithTheToken_AllowedDo(string mode, bool cache)
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        vault.Faults.RecordRequests = true;
        using var direct = new HttpClient { BaseAddress = vault.Address };
        var (token, accessor) = await TokenNeverLeaksTests.CreateAutoAuthTokenAsync(direct, vault.RootToken);
        await using var proxy = await ProxyHarness.StartAsync(
            vault.Address.ToString().TrimEnd('/'),
            new ApiProxyConfig
            {
                UseAutoAuthToken = mode == "force" ? AutoAuthTokenMode.Force : AutoAuthTokenMode.WhenMissing,
                AutoAuthTokenAllowPaths = Patterns(Allow),
                AutoAuthTokenDenyPaths = Patterns(Deny),
            },
            configure: cache ? c => c with { Cache = new CacheConfig() } : null);
        proxy.Tokens.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, accessor, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

        var random = new Random(20261207);
        var failures = new List<string>();
        var (refused, reachedRouted, reachedRedirected, ownToken) = (0, 0, 0, 0);
        for (var i = 0; i < 400; i++)
        {
            var shape = Shape.Generate(random);
            var expected = (shape.OwnToken && mode == "true") || shape.Expected;
            var before = vault.Faults.ArrivedRequests.Count;
            var routedBefore = vault.Faults.RoutedRequests.Count;
            using var response = await client.SendAsync(shape.ToMessage(proxy.Client.BaseAddress!));
            var body = await response.Content.ReadAsStringAsync();
            var arrived = vault.Faults.ArrivedRequests.Skip(before).ToList();
            var routed = vault.Faults.RoutedRequests.Skip(routedBefore).Where(r => r.Token == token).ToList();
            var withOurToken = arrived.Count(a => a.Token == token);
            var refusedByRule = response.StatusCode == HttpStatusCode.Forbidden && arrived.Count == 0;

            if (!expected)
            {
                refused++;
                if (withOurToken > 0 || !refusedByRule || (shape.Method != "HEAD" && !body.Contains("auto_auth_token_", StringComparison.Ordinal)))
                {
                    failures.Add($"{shape}: expected a 403 naming the rule and nothing sent; got {(int)response.StatusCode} {body}, token reached Vault {withOurToken}×");
                }

                continue;
            }

            if (shape.OwnToken && mode == "true")
            {
                ownToken++;
                if (withOurToken > 0 || !arrived.Any(a => a.Token == ClientToken))
                {
                    failures.Add($"{shape}: a request with its own token must reach Vault with it, untouched by the rules; got {(int)response.StatusCode} {body}");
                }

                continue;
            }

            var hit = response.Headers.TryGetValues("X-Cache", out var xCache) && xCache.Single() == "HIT";
            if (body.Contains("auto_auth_token_", StringComparison.Ordinal) || (withOurToken == 0 && !hit))
            {
                failures.Add($"{shape}: expected it to reach Vault with the auto-auth token; got {(int)response.StatusCode} {body}");
                continue;
            }

            foreach (var r in routed)
            {
                var full = r.Namespace.Length == 0 ? r.Path : r.Namespace.Trim('/') + "/" + r.Path;
                if (full.TrimEnd('/') != shape.Routed)
                {
                    failures.Add($"{shape}: Vault routed it to \"{full}\", not to {shape.Routed}");
                }
            }

            if (routed.Count > 0)
            {
                reachedRouted++;
            }
            else if (response.StatusCode == HttpStatusCode.MovedPermanently)
            {
                reachedRedirected++;
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join('\n', failures.Take(25)));

        // The generator reached every kind of outcome, not only one.
        Assert.True(refused >= 100 && reachedRouted >= 50 && reachedRedirected >= 10 && (mode == "force" || ownToken >= 10),
            $"refused {refused}, allowed and routed {reachedRouted}, allowed and redirected by Vault {reachedRedirected}, own token {ownToken}");
    }

    [Fact]
    public async Task ListenerRules_ReplaceApiProxysOnThatListenerOnly()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        vault.Faults.RecordRequests = true;
        using var direct = new HttpClient { BaseAddress = vault.Address };
        var (token, accessor) = await TokenNeverLeaksTests.CreateAutoAuthTokenAsync(direct, vault.RootToken);
        await using var proxy = await ProxyHarness.StartAsync(
            vault.Address.ToString().TrimEnd('/'),
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing, AutoAuthTokenAllowPaths = Patterns(["secret/data/app1/*"]) },
            configure: c => c with
            {
                Telemetry = new TelemetryConfig { PrometheusRetentionTime = TimeSpan.FromMinutes(1) },
                Listeners =
                [
                    Tcp(),
                    Tcp() with { AutoAuthTokenAllowPaths = Patterns(["secret/data/app2/*"]) },
                    Tcp() with { AutoAuthTokenDenyPaths = [] },
                ],
            });
        proxy.Tokens.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, accessor, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));
        using var client = new HttpClient();

        async Task<(HttpStatusCode Status, string Body, bool Reached)> GetAsync(int listener, string path)
        {
            var before = vault.Faults.ArrivedRequests.Count;
            using var response = await client.GetAsync(new Uri(proxy.Host.Addresses[listener].Address, "/v1/" + path));
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), vault.Faults.ArrivedRequests.Skip(before).Any(a => a.Token == token));
        }

        var app1OnFirst = await GetAsync(0, "secret/data/app1/x");
        var app2OnFirst = await GetAsync(0, "secret/data/app2/x");
        var app2OnSecond = await GetAsync(1, "secret/data/app2/x");
        var app1OnSecond = await GetAsync(1, "secret/data/app1/x");
        var sysOnThird = await GetAsync(2, "sys/mounts");

        Assert.True(app1OnFirst.Reached);
        Assert.Equal((HttpStatusCode.Forbidden, false), (app2OnFirst.Status, app2OnFirst.Reached));
        Assert.Contains("\"path \\\"secret/data/app2/x\\\" is not in auto_auth_token_allow_paths of api_proxy (listener ", app2OnFirst.Body, StringComparison.Ordinal);
        Assert.True(app2OnSecond.Reached);
        Assert.Equal((HttpStatusCode.Forbidden, false), (app1OnSecond.Status, app1OnSecond.Reached));
        Assert.Contains("is not in auto_auth_token_allow_paths of listener \\\"127.0.0.1:0\\\"", app1OnSecond.Body, StringComparison.Ordinal);
        Assert.True(sysOnThird.Reached);

        // A refusal counts as a client error (vault.agent.proxy.client_error, and by listener), with no upstream attempt:
        // client errors minus those Vault answered are the two refusals.
        var metrics = await client.GetStringAsync(new Uri(proxy.Host.Addresses[0].Address, "/agent/v1/metrics?format=prometheus"));
        Assert.Equal(2, Counter(metrics, "vault_agent_proxy_client_error ") - Counter(metrics, "vault_gatehouse_upstream_duration_seconds_count{outcome=\"client_error\"} "));

        static long Counter(string text, string prefix) =>
            text.Split('\n').Where(line => line.StartsWith(prefix, StringComparison.Ordinal)).Select(line => long.Parse(line[prefix.Length..], CultureInfo.InvariantCulture)).SingleOrDefault();
    }

    [Fact]
    public async Task DeniedRequest_IsNotAnsweredFromTheLeaseCache_ThatAnotherListenerFilled()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        vault.Faults.RecordRequests = true;
        using var direct = new HttpClient { BaseAddress = vault.Address };
        var (token, accessor) = await TokenNeverLeaksTests.CreateAutoAuthTokenAsync(direct, vault.RootToken);
        await using var proxy = await ProxyHarness.StartAsync(
            vault.Address.ToString().TrimEnd('/'),
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force },
            configure: c => c with
            {
                Cache = new CacheConfig(),
                Listeners = [Tcp(), Tcp() with { AutoAuthTokenDenyPaths = Patterns(["auth/token/create*"]) }],
            });
        proxy.Tokens.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, accessor, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));
        using var client = new HttpClient();

        async Task<HttpResponseMessage> CreateAsync(int listener) =>
            await client.PostAsync(
                new Uri(proxy.Host.Addresses[listener].Address, "/v1/auth/token/create"),
                new StringContent("""{"ttl":"1h","policies":["default"]}""", Encoding.UTF8, "application/json"));

        using var first = await CreateAsync(0);
        using var second = await CreateAsync(0);
        var before = vault.Faults.ArrivedRequests.Count;
        using var denied = await CreateAsync(1);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("HIT", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.False(denied.Headers.Contains("X-Cache"));
        Assert.Contains("matches \\\"auth/token/create*\\\" in auto_auth_token_deny_paths", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, vault.Faults.ArrivedRequests.Count);
    }

    [Fact]
    public async Task DeniedRequest_IsRefusedBeforeTokenChoice_NotWaitingForALogin_NorLookedUpWithARestoredToken_AndIsLoggedWithoutATokenInItsPath()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var seen = 0;
        upstream.Handler = context =>
        {
            Interlocked.Increment(ref seen);
            return Task.CompletedTask;
        };
        var console = new CapturingWriter();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing, AutoAuthTokenAllowPaths = Patterns(["secret/*"]) },
            c => c with { Cache = new CacheConfig() },
            new() { RetryJitter = () => 0, FirstTokenWait = TimeSpan.FromSeconds(5) },
            logConsole: console);

        // No confirmed token, only a restored one: an allowed request would wait for the login (then 503).
        proxy.Tokens.Preload(new Gatehouse.AutoAuth.AutoAuthToken("hvs.restored", "acc-restored", DateTimeOffset.UtcNow, TimeSpan.FromHours(1), true));
        using var response = await proxy.Client.GetAsync("/v1/auth/token/lookup/hvs.in-the-path");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("path \\\"auth/token/lookup/hvs.in-the-path\\\" is not in auto_auth_token_allow_paths", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, seen);
        await console.WaitForAsync("Refused to give the auto-auth token to GET auth/token/lookup/<redacted> on listener 0: not in auto_auth_token_allow_paths", TimeSpan.FromSeconds(30));

        // The same rule again: answered the same way, logged below Information (a retrying client cannot flood the log).
        using var again = await proxy.Client.GetAsync("/v1/sys/mounts");
        using var sentinel = await proxy.Client.GetAsync("/v1/?list=maybe");
        await console.WaitForAsync("Refused to give the auto-auth token to GET <redacted> on listener 0", TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        Assert.Single(console.ToString().Split('\n'), line => line.Contains("Refused to give the auto-auth token to GET auth/token", StringComparison.Ordinal) || line.Contains("GET sys/mounts", StringComparison.Ordinal));
        Assert.DoesNotContain("hvs.", console.ToString(), StringComparison.Ordinal);
    }

    private static ListenerConfig Tcp() => new() { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true };

    private static PathPatternConfig[] Patterns(string[] patterns) => [.. patterns.Select(p => new PathPatternConfig(p, default))];

    /// <summary>One generated request: an endpoint spelled some way, a method, a query, maybe a namespace header or its own token.</summary>
    /// <param name="Routed">The path Vault routes (namespace first), without a trailing slash: the endpoint itself, since
    /// Go decodes an escaped slash to a slash and Gatehouse forwards escapes as the client wrote them (see docs/api-proxy.md).</param>
    private sealed record Shape(string Endpoint, string Routed, string Method, string Path, string Query, string? Namespace, bool OwnToken, bool Expected)
    {
        private static readonly string[] Queries = ["", "", "", "?version=1", "?list=true", "?list=1", "?list=false", "?x=1&list=true"];

        public static Shape Generate(Random random)
        {
            var (endpoint, read, readSlash, listVerdict) = Endpoints[random.Next(Endpoints.Length)];
            var method = Methods[random.Next(Methods.Length)];
            var query = Queries[random.Next(Queries.Length)];
            var list = method == "LIST" || (method == "GET" && query.EndsWith("list=true", StringComparison.Ordinal)) || (method == "GET" && query == "?list=1");
            var trailing = random.Next(4) == 0;
            var segments = endpoint.Split('/');
            string? ns = null;
            if (random.Next(5) == 0)
            {
                // The first segment as a namespace: Vault routes "<namespace>/<path>" the same as the whole path.
                ns = random.Next(2) == 0 ? segments[0] : "/" + segments[0] + "/";
                segments = segments[1..];
            }

            var (spelled, routed) = Spell(random, segments);
            routed = ns is null ? routed : segments.Length == endpoint.Split('/').Length ? routed : endpoint.Split('/')[0] + "/" + routed;

            // An escaped slash is a slash for Vault (Go decodes the request-target whole): the verdict is the endpoint's.
            var expected = list ? listVerdict : trailing ? readSlash : read;
            return new Shape(endpoint, routed, method, spelled + (trailing ? "/" : ""), query, ns, OwnToken: random.Next(6) == 0, expected);
        }

        /// <summary>The segments under /v1, spelled as a client might: doubled slashes, dot segments (plain and escaped), %2F, escaped letters.</summary>
        private static (string Spelled, string Routed) Spell(Random random, string[] segments)
        {
            var builder = new StringBuilder("/v1");
            var routed = new StringBuilder();
            for (var i = 0; i < segments.Length; i++)
            {
                var separator = random.Next(14) switch
                {
                    0 => "//",
                    1 => "/./",
                    2 => "/zz/../",
                    3 => "/%2e/",
                    4 => "/zz/%2E%2e/",
                    5 when i > 0 => "%2F",
                    6 when i > 0 => "%2f",
                    _ => "/",
                };
                builder.Append(separator);
                routed.Append(i == 0 ? "" : "/").Append(segments[i]);
                var segment = segments[i];
                if (random.Next(8) == 0)
                {
                    segment = "%" + ((int)segment[0]).ToString("X2", CultureInfo.InvariantCulture) + segment[1..];
                }

                builder.Append(segment);
            }

            return (builder.ToString(), routed.ToString());
        }

        /// <summary>The request exactly as spelled: Uri canonicalization would fold the dot segments and escapes.</summary>
        public HttpRequestMessage ToMessage(Uri baseAddress)
        {
            var uri = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + Path + Query, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            var message = new HttpRequestMessage(new HttpMethod(Method), uri);
            if (Method is "POST" or "PUT")
            {
                message.Content = new StringContent("""{"data":{"k":"v"}}""", Encoding.UTF8, "application/json");
            }

            if (Namespace is not null)
            {
                message.Headers.Add("X-Vault-Namespace", Namespace);
            }

            if (OwnToken)
            {
                message.Headers.Add("X-Vault-Token", ClientToken);
            }

            return message;
        }

        public override string ToString() =>
            $"{Method} {Path}{Query}{(Namespace is null ? "" : $" ns={Namespace}")}{(OwnToken ? " own-token" : "")} ({Routed}, expected {(Expected ? "allowed" : "denied")})";
    }
}
