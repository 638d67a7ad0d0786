using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>
/// Runs tests/hcl-peer, HashiCorp's HCL1 parser (Debian's golang-github-hashicorp-hcl-dev 1.0.0) behind a batch JSON
/// printer: one process for any number of inputs. The binary is built (or found in its cache) by
/// tests/hcl-peer/build.sh once per test run. A missing Go toolchain fails the tests, naming the install script.
/// </summary>
internal static class HclPeer
{
    private static readonly Lazy<string> Binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>tests/hcl-peer, found by walking up from the test assembly to the repository root.</summary>
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "hcl-peer", "build.sh");
                if (File.Exists(candidate))
                {
                    return Path.GetDirectoryName(candidate)!;
                }
            }

            throw new InvalidOperationException($"tests/hcl-peer/build.sh not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Parses every input with Go's hcl.ParseBytes; one result per input, in order.</summary>
    public static IReadOnlyList<JsonObject> Run(IReadOnlyList<(string Name, byte[] Bytes)> inputs)
    {
        var binary = Binary.Value;
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // Written from another task: the peer answers as it reads, and a full stdout pipe would otherwise block it.
        var writer = Task.Run(() =>
        {
            using var stdin = process.StandardInput.BaseStream;
            foreach (var (name, bytes) in inputs)
            {
                stdin.Write(Encoding.UTF8.GetBytes($"{name.Replace('\t', ' ').Replace('\n', ' ')}\t{bytes.Length}\n"));
                stdin.Write(bytes);
            }
        });

        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"{binary} did not finish {inputs.Count} inputs in 2 minutes");
        }

        writer.GetAwaiter().GetResult();
        var lines = stdout.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (process.ExitCode != 0 || lines.Length != inputs.Count)
        {
            throw new InvalidOperationException(
                $"{binary} exited {process.ExitCode} with {lines.Length} results for {inputs.Count} inputs: {stderr.GetAwaiter().GetResult()}");
        }

        return [.. lines.Select(line => JsonNode.Parse(line)!.AsObject())];
    }

    private static string Build() =>
        GoHelperBuild.Run(Path.Combine(Directory, "build.sh"), "The HCL differential tests need HashiCorp's Go HCL1 parser");
}
