using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary>
/// The one seam between the command line and the daemon: it receives a loaded, validated configuration and runs
/// until stopped (signal, quit endpoint, cancellation), returning the process exit code.
/// </summary>
internal static class DaemonRunner
{
    public static Task<int> RunAsync(GatehouseConfig config, TextWriter stdout, TextWriter stderr, CancellationToken ct) =>
        GatehouseHost.RunAsync(config, stdout, stderr, ct);
}
