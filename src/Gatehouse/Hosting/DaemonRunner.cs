using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary>
/// The one seam between the command line and the daemon: it receives a loaded, validated configuration (and how to
/// load it again on SIGHUP) and runs until stopped (signal, quit endpoint, cancellation), returning the exit code.
/// </summary>
internal static class DaemonRunner
{
    public static Task<int> RunAsync(
        GatehouseConfig config, string mode, Func<ConfigLoadResult> reload, TextWriter stdout, TextWriter stderr, CancellationToken ct) =>
        GatehouseHost.RunAsync(config, new GatehouseHostOptions { Mode = mode, Reload = reload }, stdout, stderr, ct);
}
