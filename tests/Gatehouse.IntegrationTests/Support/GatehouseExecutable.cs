using System.Diagnostics;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// Runs the real <c>gatehouse</c> executable as a child process, so a test sees what a user sees: the exit code and
/// everything on stdout and stderr, including what the .NET runtime itself prints when an exception escapes (exit
/// code 134 and a stack trace). The executable is the apphost the build copies next to the tests, or the binary named
/// by <c>GATEHOUSE_TEST_EXECUTABLE</c> (scripts/test-published.sh: the shipped Native AOT build). Classes that start
/// it carry <c>[Trait("Executable", "true")]</c>, which is how that script selects them.
/// </summary>
internal static class GatehouseExecutable
{
    /// <summary>Names the binary the process-level tests run instead of the one built beside them.</summary>
    public const string Variable = "GATEHOUSE_TEST_EXECUTABLE";

    public static string Path { get; } = Resolve(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Whether the tests run a binary published apart from them (Native AOT) rather than the test build's apphost.</summary>
    public static bool IsPublished => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable));

    private static string Resolve(string? configured)
    {
        if (string.IsNullOrEmpty(configured))
        {
            return System.IO.Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "gatehouse.exe" : "gatehouse");
        }

        // A wrong path must fail every test loudly, not fall back to the test build and pass against the wrong binary.
        var full = System.IO.Path.GetFullPath(configured);
        return File.Exists(full) ? full : throw new InvalidOperationException($"{Variable}={configured}: no such file");
    }

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
