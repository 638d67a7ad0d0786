using System.Diagnostics;

namespace Gatehouse.Testing;

/// <summary>
/// Builds one of the repository's Go test helpers (tests/hcl-peer, tests/helm-render) with its own build.sh, which
/// prints the binary's path (cached by a hash of its inputs) or exits 3 naming scripts/install-test-deps.sh when Go
/// or a Debian Go package is missing. Both the HCL differential tests and the Helm chart tests use it.
/// </summary>
internal static class GoHelperBuild
{
    /// <summary>Runs <paramref name="script"/>; returns the binary's path, or throws with what to install.</summary>
    public static string Run(string script, string missingHint)
    {
        var name = Path.GetRelativePath(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(script)!)!)!, script);
        var start = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill();
            throw new TimeoutException($"{name} took more than 5 minutes");
        }

        var error = stderr.GetAwaiter().GetResult().Trim();
        var path = stdout.GetAwaiter().GetResult().Trim();
        return process.ExitCode switch
        {
            0 when File.Exists(path) => path,

            // build.sh exits 3 when Go or a Go package is missing; its message names scripts/install-test-deps.sh.
            3 => throw new InvalidOperationException($"{error}\n{missingHint}: run scripts/install-test-deps.sh"),
            _ => throw new InvalidOperationException($"{name} failed (exit {process.ExitCode}): {error}"),
        };
    }
}
