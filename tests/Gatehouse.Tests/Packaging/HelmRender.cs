using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// Renders packaging/helm/gatehouse with tests/helm-render, a <c>helm template</c> stand-in (Go's text/template with
/// Debian's Sprig, Helm's include/tpl/toYaml/required, values read as Helm reads them); Helm itself cannot be installed
/// here. The binary is built (or found in its cache) by tests/helm-render/build.sh once per test run. A missing Go
/// toolchain or package fails the tests, naming scripts/install-test-deps.sh.
/// </summary>
internal static class HelmRender
{
    private static readonly Lazy<string> Binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The repository root, found by walking up from the test assembly to tests/helm-render/build.sh.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Chart => Path.Combine(RepositoryRoot, "packaging", "helm", "gatehouse");

    /// <summary>One rendered document: the template it came from and the object.</summary>
    internal sealed record Document(string Template, JsonObject Object)
    {
        public string Kind => (string)Object["kind"]!;

        public string Name => (string)Object["metadata"]!["name"]!;
    }

    /// <summary>
    /// The documents <c>helm template --kube-version</c> would print for these values (YAML, as a -f file would hold).
    /// </summary>
    public static IReadOnlyList<Document> Render(string valuesYaml, string kubeVersion = "1.30")
    {
        var (code, stdout, stderr) = Run(valuesYaml, kubeVersion);
        Assert.True(code == 0, $"helm-render failed (exit {code}): {stderr}");
        return [.. JsonNode.Parse(stdout)!.AsArray().Select(d => new Document((string)d!["template"]!, d["object"]!.AsObject()))];
    }

    /// <summary>The error of a render that must fail.</summary>
    public static string RenderError(string valuesYaml, string kubeVersion = "1.30")
    {
        var (code, _, stderr) = Run(valuesYaml, kubeVersion);
        Assert.True(code != 0, "helm-render succeeded where it should have failed");
        return stderr;
    }

    private static (int Code, string Stdout, string Stderr) Run(string valuesYaml, string kubeVersion)
    {
        var values = Path.Combine(Path.GetTempPath(), $"gatehouse-values-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(values, valuesYaml);
        try
        {
            var start = new ProcessStartInfo(Binary.Value, ["-name", "gatehouse", "-namespace", "vault-clients", "-kube-version", kubeVersion, Chart, "-f", values])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Binary.Value}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                process.Kill();
                throw new TimeoutException("helm-render took more than a minute");
            }

            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
        finally
        {
            File.Delete(values);
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "helm-render", "build.sh")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"tests/helm-render/build.sh not found above {AppContext.BaseDirectory}");
    }

    private static string Build() =>
        GoHelperBuild.Run(Path.Combine(RepositoryRoot, "tests", "helm-render", "build.sh"), "The Helm chart tests render with Go's Sprig");
}
