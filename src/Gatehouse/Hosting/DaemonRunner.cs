using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary>
/// The one seam between the command line and the daemon: it receives a loaded, validated configuration and runs
/// until stopped, returning the process exit code. The daemon is not built yet, so for now it says so and fails.
/// </summary>
internal static class DaemonRunner
{
    public static Task<int> RunAsync(GatehouseConfig config, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        stderr.WriteLine("gatehouse proxy: configuration is valid, but the daemon (auto-auth, sinks, API proxy, listeners) is not implemented yet");
        return Task.FromResult(ExitCodes.Error);
    }
}
