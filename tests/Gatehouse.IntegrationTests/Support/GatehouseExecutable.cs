using System.Diagnostics;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// Runs the real <c>gatehouse</c> executable (the apphost the build copies next to the tests) as a child process, so a
/// test sees what a user sees: the exit code and everything on stdout and stderr, including what the .NET runtime
/// itself prints when an exception escapes (exit code 134 and a stack trace).
/// </summary>
internal static class GatehouseExecutable
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "gatehouse.exe" : "gatehouse");

    /// <summary>
    /// Runs <c>gatehouse args…</c> with the Vault and Gatehouse variables of this process removed and
    /// <paramref name="environment"/> set. <paramref name="cancellationToken"/> is a safety net: it kills the process.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(Path, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("VAULT_", StringComparison.Ordinal) || k.StartsWith("BAO_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
