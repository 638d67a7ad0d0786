using System.Net.Http.Json;
using Gatehouse.Hosting;

namespace Gatehouse.IntegrationTests.RealClients;

/// <summary>
/// <c>gatehouse dev -proxy-unix-socket=…</c>, run in-process through <see cref="DevCommand.RunAsync"/> exactly as the
/// command line runs it (DevVault, the dev scenario, the rendered configuration with <c>use_auto_auth_token = true</c>
/// and <c>cache {}</c>, the real host), with a tcp and a unix listener. Then what the client sessions need beyond the
/// dev scenario, done with the root token directly on DevVault as an operator would (and as
/// tests/clients/prepare-dev.sh does): KV v1 at <c>kv/</c>, and tests/clients/session-policy.hcl as the <c>dev</c>
/// policy the auto-auth token carries (policies apply on the next request, no re-login).
/// Connections Gatehouse accepts are counted from Kestrel's own metrics.
/// </summary>
public sealed class DevSessionFixture : IAsyncLifetime
{
    /// <summary>The dev policy the sessions need (the dev scenario's only reads); one file for the tests and for
    /// tests/clients/prepare-dev.sh.</summary>
    public static string SessionPolicyPath => Path.Combine(RepositoryRoot, "tests", "clients", "session-policy.hcl");

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _output = new();
    private Task<int>? _run;
    private readonly TempDirectory _directory = new("gatehouse-clients-");

    /// <summary>Holds the unix socket; removed on dispose.</summary>
    public string Directory => _directory.Path;

    public string SocketPath => Path.Combine(Directory, "gatehouse.sock");

    internal DevSession Session { get; private set; } = null!;

    internal KestrelConnections Connections { get; } = new();

    /// <summary>The address a client is given, in Vault's forms: http://127.0.0.1:PORT or unix:///path.</summary>
    public string Address(string transport) => transport switch
    {
        "tcp" => Session.ProxyAddress.ToString().TrimEnd('/'),
        "unix" => "unix://" + SocketPath,
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "tcp or unix"),
    };

    /// <summary>Connections Gatehouse has accepted so far on the listener of <paramref name="transport"/>.</summary>
    public long ConnectionsAccepted(string transport) =>
        transport == "unix" ? Connections.Accepted(SocketPath) : Connections.Accepted(Session.ProxyAddress.Host, Session.ProxyAddress.Port);

    /// <summary>The repository's root (the folder holding Gatehouse.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public async Task InitializeAsync()
    {
        var ready = new TaskCompletionSource<DevSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = TextWriter.Synchronized(_output);
        _run = DevCommand.RunAsync(
            ["-dev-listen-address=127.0.0.1:0", "-proxy-address=127.0.0.1:0", "-proxy-unix-socket=" + SocketPath],
            output, output, ready.SetResult, _stop.Token);
        var first = await Task.WhenAny(ready.Task, _run).WaitAsync(StartTimeout);
        if (first != ready.Task)
        {
            throw new InvalidOperationException($"gatehouse dev exited with {await _run} before it was ready:\n{_output}");
        }

        Session = await ready.Task;
        Assert.Equal(SocketPath, Session.ProxySocketPath);

        using var root = new HttpClient { BaseAddress = Session.VaultAddress };
        root.DefaultRequestHeaders.Add("X-Vault-Token", Session.RootToken);
        await RootAsync(root, HttpMethod.Post, "sys/mounts/kv", new { type = "kv", options = new { version = "1" } });
        await RootAsync(root, HttpMethod.Put, "sys/policies/acl/dev", new { policy = await File.ReadAllTextAsync(SessionPolicyPath) });
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Connections.Dispose();
        _stop.Dispose();
        _directory.Dispose();
    }

    private static async Task RootAsync(HttpClient root, HttpMethod method, string path, object body)
    {
        using var response = await root.SendAsync(new HttpRequestMessage(method, "/v1/" + path) { Content = JsonContent.Create(body) });
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"DevVault setup: {method} {path} answered {(int)response.StatusCode}: {text}");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Gatehouse.slnx above {AppContext.BaseDirectory}");
    }
}
