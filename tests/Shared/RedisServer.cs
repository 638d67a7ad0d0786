using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>
/// A real <c>redis-server</c> (Debian's package, installed by scripts/install-test-deps.sh) for the shared-store
/// tests: its own temp directory, a free loopback port, no persistence (no RDB, no AOF), optionally a password for the
/// default user or an ACL user. <see cref="Kill"/> ends it at once (SIGKILL, as a crash); <see cref="Start"/> brings it
/// back on the same port, empty. Start-up waits for the server's own "Ready to accept connections" line, bounded.
/// Linked into the test projects that use it (they share no support project).
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new("gatehouse-redis-");
    private readonly string? _password;
    private readonly string? _user;
    private Process? _process;

    /// <param name="password">When set, required: for the default user, or for <paramref name="user"/>.</param>
    /// <param name="user">When set (with a password), an ACL user with every right, and the default user is turned off.</param>
    public RedisServer(string? password = null, string? user = null)
    {
        _password = password;
        _user = user;
        Port = FreePort();
        Start();
    }

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>, as <c>cache.shared.address</c> takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public bool Running => _process is { HasExited: false };

    /// <summary>Starts the server (again, on the same port). The port may be taken in between only by chance; then it throws.</summary>
    public void Start()
    {
        if (Running)
            return;
        var arguments = new List<string>
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory.Path, "--daemonize", "no", "--protected-mode", "no",
        };
        if (_password is not null && _user is not null)
            arguments.AddRange(["--user", "default", "off", "--user", _user, "on", $">{_password}", "~*", "&*", "+@all"]);
        else if (_password is not null)
            arguments.AddRange(["--requirepass", _password]);

        var start = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"redis-server exited before it was ready:\n{output}"));
                return;
            }

            lock (output)
                output.AppendLine(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
                ready.TrySetResult();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        if (!ready.Task.Wait(ReadyTimeout))
            throw new TimeoutException($"redis-server was not ready within {ReadyTimeout}:\n{output}");
    }

    /// <summary>Kills the server at once (SIGKILL) and waits until it is gone; clients see a dropped connection.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        _directory.Dispose();
    }

    private static string Executable()
    {
        foreach (var candidate in new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" })
        {
            if (File.Exists(candidate))
                return candidate;
        }

        throw new InvalidOperationException("redis-server not found: run scripts/install-test-deps.sh (it installs Debian's redis-server)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
