using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// Replays every exchange recorded from a real Vault 1.8 dev server against DevVault and compares by shape.
/// The files depend on the state their predecessors leave, so they are replayed once, in order, on one server
/// (<see cref="ReplayFixture"/>); each test checks its own file's results. 06b comes from a separate
/// -dev-leased-kv server and runs alone.
/// </summary>
public sealed partial class TranscriptReplayTests(ITestOutputHelper output, TranscriptReplayTests.ReplayFixture replayed)
    : IClassFixture<TranscriptReplayTests.ReplayFixture>
{
    private static readonly string[] s_order =
    [
        "00-setup", "01-health", "02-token", "03-approle", "04-kv2", "05-kv1", "06-leases", "06b-leases-renewable",
        "07-wrapping", "08-errors", "09-consistency-headers", "10-request-header", "11-sealed",
    ];

    /// <summary>
    /// Every exchange DevVault answers differently from real Vault, with the reason. The same list is in
    /// docs/compatibility.md ("DevVault (the embedded test server) versus real Vault").
    /// </summary>
    internal static readonly Dictionary<(string File, string Exchange), string> KnownDifferences = new()
    {
    };

    public static TheoryData<string> Files => new(s_order);

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Transcript_EveryExchange_MatchesRealVaultByShape(string file)
    {
        var results = await replayed.ResultsAsync(file);

        var unexpected = new List<string>();
        var stale = new List<string>();
        int passed = 0, known = 0;
        foreach (var (name, diffs) in results)
        {
            var isKnown = KnownDifferences.ContainsKey((file, name));
            if (diffs.Count == 0)
            {
                passed++;
                if (isKnown)
                {
                    stale.Add(name);
                }
            }
            else if (isKnown)
            {
                known++;
            }
            else
            {
                unexpected.Add($"  [{name}]\n    " + string.Join("\n    ", diffs));
            }
        }
        var summary = $"{file}: {results.Count} exchanges, {passed} passed, {known} known differences, {unexpected.Count} failed";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        foreach (var u in unexpected)
        {
            output.WriteLine(u);
        }
        Assert.True(unexpected.Count == 0, summary + "\n" + string.Join("\n", unexpected));
        Assert.True(stale.Count == 0, "listed as known differences but now pass: " + string.Join(", ", stale));
    }

    /// <summary>
    /// Replays the files in order on one server, each once, and keeps every file's results. Replaying all earlier
    /// files again for each test made the suite quadratic (06-leases alone issues a score of RSA certificates).
    /// </summary>
    public sealed class ReplayFixture : IAsyncLifetime
    {
        private const string Separate = "06b-leases-renewable";
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Dictionary<string, List<(string Name, List<string> Diffs)>> _results = new(StringComparer.Ordinal);
        private readonly List<IAsyncDisposable> _servers = [];
        private readonly List<HttpClient> _clients = [];
        private Replayer? _shared;
        private Exception? _broken;
        private int _next;

        public async Task<List<(string Name, List<string> Diffs)>> ResultsAsync(string file)
        {
            await _gate.WaitAsync();
            try
            {
                if (_results.TryGetValue(file, out var done))
                {
                    return done;
                }

                if (file == Separate)
                {
                    return _results[file] = await (await StartAsync(leasedKv: true)).RunAsync(file);
                }

                if (_broken is not null)
                {
                    throw new InvalidOperationException($"an earlier transcript could not be replayed, so {file} cannot be", _broken);
                }

                _shared ??= await StartAsync(leasedKv: false);
                var chain = s_order.Where(f => f != Separate).ToList();
                while (!_results.ContainsKey(file))
                {
                    var next = chain[_next++];
                    try
                    {
                        _results[next] = await _shared.RunAsync(next);
                    }
                    catch (Exception e)
                    {
                        _broken = e;
                        throw;
                    }
                }

                return _results[file];
            }
            finally
            {
                _gate.Release();
            }
        }

        private async Task<Replayer> StartAsync(bool leasedKv)
        {
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = clock, LeasedKv = leasedKv });
            _servers.Add(server);
            var http = new HttpClient { BaseAddress = server.Address };
            _clients.Add(http);
            var replay = new Replayer(http);
            replay.Map["EFJGG0UrNiovmnFi0MOEU5zz8WpSdVcJsZ1FTHng+JM="] = server.UnsealKey; // the recorded unseal key
            return replay;
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync()
        {
            _clients.ForEach(c => c.Dispose());
            foreach (var server in _servers)
            {
                await server.DisposeAsync();
            }

            _gate.Dispose();
        }
    }

    private static readonly JsonSerializerOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Harness hints for recorded token lease keys that a later exchange uses by id. Vault names a token's lease
    /// with a salted hash, so a recorded key cannot be linked to its token from the files alone; these links come
    /// from the recorded lookup (06-leases "lookup a token lease by id": issued 02:03:51.1218 with ttl 1h, which is
    /// parent token P3 of 02-token). DevVault's key ends with a hash of the token id, so the harness finds the
    /// matching key in DevVault's LIST.
    /// </summary>
    private static readonly Dictionary<string, string> s_tokenLeaseHints = new(StringComparer.Ordinal)
    {
        ["h156c505378b9d6f6606c7312d7bc6e55e8b188657244cef701b1669d501c0184"] = "s.mxcu1APHNJ7lHX4HBpKQcpqf",
    };

    private sealed partial class Replayer(HttpClient http)
    {
        public Dictionary<string, string> Map { get; } = new(StringComparer.Ordinal);

        public async Task<List<(string Name, List<string> Diffs)>> RunAsync(string file)
        {
            var results = new List<(string, List<string>)>();
            var path = Path.Combine(AppContext.BaseDirectory, "Transcripts", file + ".jsonl");
            foreach (var line in await File.ReadAllLinesAsync(path))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                var exchange = JsonNode.Parse(line)!.AsObject();
                results.Add((exchange["name"]!.ToString(), await RunOneAsync(exchange)));
            }
            return results;
        }

        private string Substitute(string text)
        {
            foreach (var (from, to) in Map.OrderByDescending(kv => kv.Key.Length))
            {
                text = text.Replace(from, to, StringComparison.Ordinal);
            }
            return text;
        }

        private async Task<List<string>> RunOneAsync(JsonObject exchange)
        {
            var req = exchange["request"]!.AsObject();
            var expected = exchange["response"]!.AsObject();
            using var message = new HttpRequestMessage(new HttpMethod(req["method"]!.ToString()), Substitute(req["path"]!.ToString()));
            string? contentType = null;
            foreach (var (name, value) in req["headers"]!.AsObject())
            {
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    contentType = value!.ToString();
                    continue;
                }
                message.Headers.TryAddWithoutValidation(name, Substitute(value!.ToString()));
            }
            var body = req["body"];
            string? bodyText = req["body_is_raw_text"]?.GetValue<bool>() == true ? body?.ToString() : body?.ToJsonString(s_json);
            if (bodyText is not null)
            {
                var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Substitute(bodyText)));
                if (contentType is not null)
                {
                    content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                }
                message.Content = content;
            }
            using var response = await http.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            var diffs = new List<string>();
            var status = expected["status"]!.GetValue<int>();
            if ((int)response.StatusCode != status)
            {
                diffs.Add($"status {(int)response.StatusCode}, expected {status}; body {text}");
            }
            var headers = expected["headers"]!.AsObject();
            foreach (var h in new[] { "Cache-Control", "Content-Type" })
            {
                var actual = response.Headers.TryGetValues(h, out var v) ? string.Join(",", v) : response.Content.Headers.TryGetValues(h, out var cv) ? string.Join(",", cv) : null;
                if (headers[h]?.ToString() != actual)
                {
                    diffs.Add($"header {h}: {actual ?? "(none)"}, expected {headers[h]}");
                }
            }
            if (headers.ContainsKey("X-Vault-Index") != response.Headers.Contains("X-Vault-Index"))
            {
                diffs.Add("X-Vault-Index presence differs");
            }
            JsonNode? actualBody = null;
            try
            {
                actualBody = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                diffs.Add("body is not JSON: " + text);
            }
            var expectedBody = expected["body"];
            if (expectedBody is null && text.Length > 0)
            {
                diffs.Add("expected an empty body, got " + text);
            }
            else if (expectedBody is not null)
            {
                Learn(expectedBody, actualBody);
                Compare(expectedBody, actualBody, "$", "", diffs);
            }
            return diffs;
        }

        /// <summary>Maps recorded volatile values to the ones DevVault returned at the same place.</summary>
        private void Learn(JsonNode? recorded, JsonNode? actual)
        {
            switch (recorded)
            {
                case JsonObject ro when actual is JsonObject ao:
                    foreach (var (k, v) in ro)
                    {
                        if (ao.TryGetPropertyValue(k, out var av))
                        {
                            Learn(v, av);
                        }
                    }
                    break;
                case JsonArray ra when actual is JsonArray aa:
                    foreach (var r0 in ra.Select(x => x?.ToString() ?? ""))
                    {
                        if (s_tokenLeaseHints.TryGetValue(r0, out var recordedToken) && Map.TryGetValue(recordedToken, out var token))
                        {
                            var suffix = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..48];
                            if (aa.Select(x => x?.ToString() ?? "").FirstOrDefault(x => x.EndsWith(suffix, StringComparison.Ordinal)) is { } key)
                            {
                                Map.TryAdd(r0, key);
                            }
                        }
                    }
                    for (var i = 0; i < Math.Min(ra.Count, aa.Count); i++)
                    {
                        Learn(ra[i], aa[i]);
                    }
                    break;
                case JsonValue rv when actual is JsonValue av2 && rv.GetValueKind() == JsonValueKind.String && av2.GetValueKind() == JsonValueKind.String:
                    var r = rv.GetValue<string>();
                    var a = av2.GetValue<string>();
                    if (r != a && Category(r) is not null && Category(r) == Category(a))
                    {
                        Map.TryAdd(r, a);
                        var rs = r.LastIndexOf('/');
                        var as2 = a.LastIndexOf('/');
                        if (rs > 0 && as2 > 0)
                        {
                            Map.TryAdd(r[(rs + 1)..], a[(as2 + 1)..]);
                        }
                    }
                    break;
            }
        }

        private static readonly string[] s_typeOnlyNumbers = ["creation_time", "server_time_utc", "last_renewal_time", "expiration"];
        private static readonly string[] s_approxNumbers = ["ttl", "lease_duration"];

        private void Compare(JsonNode? e, JsonNode? a, string where, string key, List<string> diffs)
        {
            var ek = e?.GetValueKind() ?? JsonValueKind.Null;
            var ak = a?.GetValueKind() ?? JsonValueKind.Null;
            if (ek is JsonValueKind.True or JsonValueKind.False && ak is JsonValueKind.True or JsonValueKind.False)
            {
                if (ek != ak)
                {
                    diffs.Add($"{where}: {ak}, expected {ek}");
                }
                return;
            }
            if (ek != ak)
            {
                diffs.Add($"{where}: {ak} {a?.ToJsonString()}, expected {ek} {e?.ToJsonString()}");
                return;
            }
            switch (e)
            {
                case JsonObject eo:
                    var ao = (JsonObject)a!;
                    foreach (var k in eo.Select(kv => kv.Key).Except(ao.Select(kv => kv.Key)))
                    {
                        diffs.Add($"{where}.{k}: missing");
                    }
                    foreach (var k in ao.Select(kv => kv.Key).Except(eo.Select(kv => kv.Key)))
                    {
                        diffs.Add($"{where}.{k}: unexpected");
                    }
                    foreach (var (k, v) in eo)
                    {
                        if (ao.TryGetPropertyValue(k, out var av))
                        {
                            Compare(v, av, where + "." + k, k, diffs);
                        }
                    }
                    break;
                case JsonArray ea:
                    var aa = (JsonArray)a!;
                    if (ea.Count != aa.Count)
                    {
                        diffs.Add($"{where}: {aa.Count} items {aa.ToJsonString()}, expected {ea.Count} {ea.ToJsonString()}");
                        return;
                    }
                    for (var i = 0; i < ea.Count; i++)
                    {
                        Compare(ea[i], aa[i], $"{where}[{i}]", key, diffs);
                    }
                    break;
                case JsonValue ev when ek == JsonValueKind.Number:
                    var en = ev.GetValue<double>();
                    var an = a!.GetValue<double>();
                    if (s_typeOnlyNumbers.Contains(key) || (s_approxNumbers.Contains(key) && Math.Abs(en - an) <= 2) || en == an)
                    {
                        return;
                    }
                    diffs.Add($"{where}: {an}, expected {en}");
                    break;
                case JsonValue ev when ek == JsonValueKind.String:
                    var es = ev.GetValue<string>();
                    var as1 = a!.GetValue<string>();
                    if (es == as1 || (Map.TryGetValue(es, out var mapped) && mapped == as1))
                    {
                        return;
                    }
                    if (Category(es) is { } cat)
                    {
                        if (Category(as1) != cat)
                        {
                            diffs.Add($"{where}: \"{as1}\" is not a {cat} like \"{es}\"");
                        }
                        return;
                    }
                    if (where.Contains(".warnings", StringComparison.Ordinal) && Durations().Replace(es, "\"D\"") == Durations().Replace(as1, "\"D\""))
                    {
                        return;
                    }
                    diffs.Add($"{where}: \"{as1}\", expected \"{es}\"");
                    break;
            }
        }

        private static readonly (string Name, Regex Pattern)[] s_categories =
        [
            ("service token", new Regex(@"^s\.[A-Za-z0-9]{24}$")),
            ("batch token", new Regex(@"^b\.[A-Za-z0-9_-]{20,}$")),
            ("JWT", new Regex(@"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")),
            ("accessor", new Regex("^[A-Za-z0-9]{24}$")),
            ("UUID", new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")),
            ("RFC 3339 time", new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")),
            ("lease id", new Regex(@"^[A-Za-z0-9_.\-/]+/(h[0-9a-f]{64}|[0-9a-f]{40}|[A-Za-z0-9]{24})$")),
            ("token lease key", new Regex("^(h[0-9a-f]{64}|[0-9a-f]{40})$")),
            ("PEM", new Regex("^(-----BEGIN |<REDACTED IN TRANSCRIPT)")),
            ("certificate serial", new Regex("^([0-9a-f]{2}:)+[0-9a-f]{2}$")),
            ("TOTP code", new Regex(@"^\d{6}$")),
            ("mount accessor", new Regex("^[a-z_]+_[0-9a-f]{8}$")),
            ("cluster name", new Regex("^vault-cluster-[0-9a-f]{8}$")),
            ("transit ciphertext", new Regex(@"^vault:v\d+:")),
            ("base64 key", new Regex("^[A-Za-z0-9+/]{43}=$")),
        ];

        private static string? Category(string s)
        {
            if (s == "0001-01-01T00:00:00Z")
            {
                return null;
            }
            foreach (var (name, pattern) in s_categories)
            {
                if (pattern.IsMatch(s))
                {
                    return name;
                }
            }
            return null;
        }

        [GeneratedRegex("\"[0-9hms]+\"")]
        private static partial Regex Durations();
    }
}
