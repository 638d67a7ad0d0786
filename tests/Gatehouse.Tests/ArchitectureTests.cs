using System.Text.RegularExpressions;

namespace Gatehouse.Tests;

/// <summary>
/// Holds the dependency rule of ARCHITECTURE.md by reading the source: a folder of src/Gatehouse may name only the
/// folders to its left in <c>Configuration → Shared → Vault → AutoAuth → Sinks → ApiProxy → Cache → Listeners</c>. Telemetry
/// may be named by any folder and names only Configuration (its own stanza). Hosting and the root files
/// (Program.cs, ProductInfo.cs) see everything. ApiProxy never names Cache.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly string[] Flow = ["Configuration", "Shared", "Vault", "AutoAuth", "Sinks", "ApiProxy", "Cache", "Listeners"];

    private static readonly string[] Folders = [.. Flow, "Telemetry", "Hosting"];

    /// <summary>
    /// Known, accepted breaks of the rule: "Folder -> Folder" with the reason. Keep this list empty if you can; each
    /// entry names the file that needs fixing, so the exception cannot silently grow.
    /// </summary>
    private static readonly Dictionary<string, string> Exceptions = new(StringComparer.Ordinal)
    {
    };

    [Fact]
    public void Architecture_EveryFolderNamesOnlyTheFoldersTheRuleAllows()
    {
        var violations = References()
            .Where(r => !Allowed(r.From, r.To) && !Exceptions.ContainsKey($"{r.File} -> {r.To}"))
            .Select(r => $"{r.File}:{r.Line}: {r.From} uses {r.To}")
            .ToList();

        Assert.True(violations.Count == 0,
            "The dependency rule (ARCHITECTURE.md) is broken; move the shared piece left or into the root namespace:\n" +
            string.Join("\n", violations));
    }

    [Fact]
    public void Architecture_ApiProxyNeverNamesCache()
    {
        var named = References().Where(r => r.From == "ApiProxy" && r.To == "Cache").Select(r => $"{r.File}:{r.Line}").ToList();
        Assert.True(named.Count == 0, "ApiProxy must not name Cache (Cache decorates IVaultProxier):\n" + string.Join("\n", named));
    }

    [Fact]
    public void Architecture_ExceptionsAreStillNeeded()
    {
        var seen = References().Select(r => $"{r.File} -> {r.To}").ToHashSet(StringComparer.Ordinal);
        var stale = Exceptions.Keys.Where(k => !seen.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Remove these fixed entries from ArchitectureTests.Exceptions:\n" + string.Join("\n", stale));
    }

    [Fact]
    public void Architecture_TheScanSeesEveryFolder()
    {
        var files = SourceFiles().Select(f => f.Folder).ToHashSet(StringComparer.Ordinal);
        Assert.All(Folders, folder => Assert.Contains(folder, files));
        Assert.Contains(References(), r => r.From == "Cache" && r.To == "ApiProxy");
    }

    [Fact]
    public void Architecture_FolderIsNamespace()
    {
        var wrong = SourceFiles()
            .Where(f => f.Folder != Root)
            .Select(f => (f.Relative, Namespace: NamespaceDeclaration().Match(File.ReadAllText(f.Path))))
            .Where(f => !f.Namespace.Success || f.Namespace.Groups[1].Value != f.Relative.Split('/')[0])

            // Add… extensions may sit in the DI namespace, as ASP.NET Core's own do; their folder still owns them.
            .Where(f => !(f.Relative.EndsWith("ServiceCollectionExtensions.cs", StringComparison.Ordinal)
                && f.Namespace.Value == "namespace Microsoft.Extensions.DependencyInjection"))
            .Select(f => f.Relative)
            .ToList();
        Assert.True(wrong.Count == 0, "Folder = namespace: these files declare another namespace:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void Architecture_EveryAddExtension_SitsInTheDependencyInjectionNamespace_InItsFoldersExtensionsFile()
    {
        var extensionFiles = SourceFiles()
            .Where(f => File.ReadAllText(f.Path).Contains("this IServiceCollection", StringComparison.Ordinal))
            .ToList();
        Assert.True(extensionFiles.Count >= 6, $"expected the six Add… extensions, found {extensionFiles.Count} files");
        var wrong = extensionFiles
            .Where(f => !f.Relative.EndsWith("ServiceCollectionExtensions.cs", StringComparison.Ordinal)
                || NamespaceDeclaration().Match(File.ReadAllText(f.Path)).Value != "namespace Microsoft.Extensions.DependencyInjection")
            .Select(f => f.Relative)
            .ToList();
        Assert.True(wrong.Count == 0,
            "Add… extensions live in <Folder>ServiceCollectionExtensions.cs in namespace Microsoft.Extensions.DependencyInjection:\n"
            + string.Join("\n", wrong));
    }

    private const string Root = "(root)";

    private static bool Allowed(string from, string to) =>
        from == to
        || from is "Hosting" or Root
        || to == "Telemetry"
        || (from == "Telemetry" ? to == "Configuration"
            : Array.IndexOf(Flow, from) is var f and >= 0 && Array.IndexOf(Flow, to) is var t and >= 0 && t < f);

    private static List<(string File, int Line, string From, string To)> References()
    {
        var references = new List<(string, int, string, string)>();
        foreach (var (path, relative, folder) in SourceFiles())
        {
            var lines = File.ReadAllLines(path);
            for (var i = 0; i < lines.Length; i++)
            {
                var code = lines[i].TrimStart();
                if (code.StartsWith("namespace ", StringComparison.Ordinal))
                {
                    continue;
                }

                // using directives and fully qualified names alike; string literals and comments are not references.
                code = LineComment().Replace(StringLiteral().Replace(code, "\"\""), "");
                foreach (Match m in GatehouseName().Matches(code))
                {
                    var to = m.Groups[1].Value;
                    if (Folders.Contains(to))
                    {
                        references.Add((relative, i + 1, folder, to));
                    }
                }
            }
        }

        return references;
    }

    private static IEnumerable<(string Path, string Relative, string Folder)> SourceFiles()
    {
        var src = Path.Combine(RepositoryRoot(), "src", "Gatehouse");
        foreach (var path in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(src, path).Replace('\\', '/');
            var first = relative.Split('/')[0];
            if (first is "bin" or "obj" or "Properties")
            {
                continue;
            }

            yield return (path, relative, relative.Contains('/', StringComparison.Ordinal) ? first : Root);
        }
    }

    /// <summary>The folder holding Gatehouse.slnx, found by walking up from the test assembly.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Gatehouse.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\bGatehouse\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex GatehouseName();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"//.*$")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"^namespace\s+(?:Gatehouse\.([A-Za-z0-9_]+)|Microsoft\.Extensions\.DependencyInjection\b)", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();
}
