using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// A running <see cref="GatehouseExecutable"/> (<c>gatehouse proxy</c>, <c>gatehouse dev</c>) whose stdout and stderr
/// a test can wait on, send POSIX signals to, and wait for the exit of. Variables of this process named
/// <c>VAULT_*</c>/<c>BAO_*</c> (and any prefix the caller adds) are removed; <c>environment</c> is set on top.
/// </summary>
internal sealed partial class GatehouseProcess : IAsyncDisposable
{
    /// <summary>A safety net so a hung wait fails the test instead of hanging it; not a timing assertion.</summary>
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private readonly Process _process;

    private GatehouseProcess(Process process) => _process = process;

    /// <summary>stdout and stderr, line by line, in arrival order.</summary>
    public CapturingWriter Output { get; } = new();

    public int Id => _process.Id;

    public static GatehouseProcess Start(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null, params string[] removePrefixes)
    {
        var start = new ProcessStartInfo(GatehouseExecutable.Path, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] prefixes = ["VAULT_", "BAO_", .. removePrefixes];
        foreach (var name in start.Environment.Keys.Where(k => prefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var running = new GatehouseProcess(process);
        process.OutputDataReceived += (_, e) => running.Output.WriteLine(e.Data);
        process.ErrorDataReceived += (_, e) => running.Output.WriteLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Waits (bounded) until the process has printed <paramref name="fragment"/> that many times.</summary>
    public async Task WaitForAsync(string fragment, int occurrences = 1)
    {
        var printed = Output.WaitForAsync(fragment, Hang, occurrences);
        var exited = _process.WaitForExitAsync();
        try
        {
            if (await Task.WhenAny(printed, exited) == exited && !printed.IsCompleted)
            {
                throw new InvalidOperationException($"gatehouse exited ({_process.ExitCode}) before it printed \"{fragment}\"; output:\n{Output}");
            }

            await printed;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"gatehouse never printed \"{fragment}\"; output:\n{Output}", e);
        }
    }

    [GeneratedRegex(@"Api Address (?<n>\d+): (?<address>\S+)")]
    private static partial Regex ApiAddressLine();

    /// <summary>The listeners' addresses from the start-up banner (as bound: port 0 is resolved), in configuration order.</summary>
    public async Task<IReadOnlyList<string>> ApiAddressesAsync()
    {
        await WaitForAsync("Gatehouse Proxy started!");
        return [.. ApiAddressLine().Matches(Output.ToString()).OrderBy(m => int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Select(m => m.Groups["address"].Value)];
    }

    /// <summary>Sends a POSIX signal (HUP, TERM, INT) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>The exit code, once the process has ended by itself (bounded).</summary>
    public async Task<int> ExitCodeAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(Hang);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"gatehouse did not exit; output:\n{Output}", e);
        }

        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>An HTTP client for a listener address from the banner: http://host:port or unix:///path.</summary>
    public static HttpClient ClientFor(string address)
    {
        if (!address.StartsWith("unix://", StringComparison.Ordinal))
        {
            return new HttpClient { BaseAddress = new Uri(address) };
        }

        var path = address["unix://".Length..];
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
