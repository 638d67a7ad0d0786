using System.Net.Http.Json;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// Replays every exchange recorded from a real Vault 1.8 dev server against DevVault and compares by shape.
/// The files depend on the state their predecessors leave, so they are replayed once, in order, on one server
/// (<see cref="ReplayFixture"/>); each test checks its own file's results. 06b comes from a separate
/// -dev-leased-kv server and runs alone; 12-edges comes from a later, fresh server with 00's setup plus a policy.
/// </summary>
public sealed class TranscriptReplayTests(ITestOutputHelper output, TranscriptReplayTests.ReplayFixture replayed)
    : IClassFixture<TranscriptReplayTests.ReplayFixture>
{
    private static readonly string[] s_order =
    [
        "00-setup", "01-health", "02-token", "03-approle", "04-kv2", "05-kv1", "06-leases", "06b-leases-renewable",
        "07-wrapping", "08-errors", "09-consistency-headers", "10-request-header", "11-sealed",
        "12-edges",
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
        private const string LeasedKv = "06b-leases-renewable";
        private const string Edges = "12-edges";
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Dictionary<string, List<(string Name, List<string> Diffs)>> _results = new(StringComparer.Ordinal);
        private readonly List<IAsyncDisposable> _servers = [];
        private readonly List<HttpClient> _clients = [];
        private TranscriptReplayer? _shared;
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

                if (file == LeasedKv)
                {
                    return _results[file] = await (await StartAsync(leasedKv: true)).RunAsync(file);
                }

                if (file == Edges)
                {
                    return _results[file] = await (await StartEdgesServerAsync()).RunAsync(file);
                }

                if (_broken is not null)
                {
                    throw new InvalidOperationException($"an earlier transcript could not be replayed, so {file} cannot be", _broken);
                }

                _shared ??= await StartAsync(leasedKv: false);
                var chain = s_order.Where(f => f is not (LeasedKv or Edges)).ToList();
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

        private async Task<TranscriptReplayer> StartAsync(bool leasedKv)
        {
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = clock, LeasedKv = leasedKv });
            _servers.Add(server);
            // No redirects followed: a 301 is an answer to compare.
            var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.Address };
            _clients.Add(http);
            var replay = new TranscriptReplayer(server, http);
            replay.Map["EFJGG0UrNiovmnFi0MOEU5zz8WpSdVcJsZ1FTHng+JM="] = server.UnsealKey; // the recorded unseal key
            return replay;
        }

        /// <summary>
        /// 12-edges was recorded on a fresh server "with the same setup plus a policy kvread (its text is in the
        /// first line's note)": replay 00-setup there (its results are 00's test's business, not this one's), then
        /// write the policy.
        /// </summary>
        private async Task<TranscriptReplayer> StartEdgesServerAsync()
        {
            var replay = await StartAsync(leasedKv: false);
            await replay.RunAsync("00-setup");
            const string marker = "policy kvread: ";
            var note = TranscriptReplayer.Exchanges(Edges).First()["note"]!.ToString();
            Assert.StartsWith(marker, note, StringComparison.Ordinal);
            var http = _clients[^1];
            using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/sys/policies/acl/kvread")
            {
                Content = JsonContent.Create(new { policy = note[marker.Length..] }),
            };
            request.Headers.Add("X-Vault-Token", "root");
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            // Same setup, but another Vault server recorded it: its mount uuids and accessors are its own.
            return replay.ForAnotherRecording();
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
}
