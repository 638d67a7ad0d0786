using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// Replays every exchange recorded from a real Vault 1.8 dev server against DevVault and compares by shape.
/// The files depend on the state their predecessors leave, so they are replayed once, in order, on one server
/// (<see cref="ReplayFixture"/>); each test checks its own file's results. 06b comes from a separate
/// -dev-leased-kv server and runs alone.
/// </summary>
public sealed class TranscriptReplayTests(ITestOutputHelper output, TranscriptReplayTests.ReplayFixture replayed)
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
        var countProblem = TranscriptReadme.CheckCount(file, results.Count, TranscriptReadme.LineCounts());
        Assert.True(countProblem is null, countProblem);
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

    private sealed class Replayer(HttpClient http)
    {
        private readonly ShapeComparer _shapes = new();

        public Dictionary<string, string> Map => _shapes.Map;

        public async Task<List<(string Name, List<string> Diffs)>> RunAsync(string file)
        {
            var results = new List<(string, List<string>)>();
            var path = Path.Combine(TranscriptReadme.Directory, file + ".jsonl");
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

        private async Task<List<string>> RunOneAsync(JsonObject exchange)
        {
            var req = exchange["request"]!.AsObject();
            var expected = exchange["response"]!.AsObject();
            using var message = new HttpRequestMessage(new HttpMethod(req["method"]!.ToString()), _shapes.Substitute(req["path"]!.ToString()));
            string? contentType = null;
            foreach (var (name, value) in req["headers"]!.AsObject())
            {
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    contentType = value!.ToString();
                    continue;
                }
                message.Headers.TryAddWithoutValidation(name, _shapes.Substitute(value!.ToString()));
            }
            var body = req["body"];
            string? bodyText = req["body_is_raw_text"]?.GetValue<bool>() == true ? body?.ToString() : body?.ToJsonString(s_json);
            if (bodyText is not null)
            {
                var content = new ByteArrayContent(Encoding.UTF8.GetBytes(_shapes.Substitute(bodyText)));
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
                _shapes.LearnAndCompare(expectedBody, actualBody, diffs);
            }
            return diffs;
        }
    }
}
