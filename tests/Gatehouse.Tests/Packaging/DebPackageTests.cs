using System.Diagnostics;
using Gatehouse.Configuration;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// The Debian package (packaging/deb, docs/packaging.md): the unit file's lines and the sample configuration here,
/// and the whole package built, installed with dpkg -i and served by tests/deb/run.sh.
/// </summary>
public sealed class DebPackageTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
                return dir.FullName;
        }

        throw new InvalidOperationException("Gatehouse.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The unit's <c>Key=Value</c> lines, each key with every value it is given (systemd allows repeats).</summary>
    private static ILookup<string, string> UnitLines(string path) =>
        File.ReadAllLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && l[0] != '#' && l[0] != ';' && l[0] != '[' && l.Contains('=', StringComparison.Ordinal))
            .ToLookup(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);

    [Fact]
    public void Unit_ReadsTheEnvironmentFile_RunsAsTheServiceUser_AndOwnsItsDirectories()
    {
        var unit = UnitLines(Path.Combine(RepositoryRoot(), "packaging", "systemd", "gatehouse.service"));

        Assert.Equal(["-/etc/gatehouse/gatehouse.env"], unit["EnvironmentFile"]);
        // build.sh rewrites this one line to /usr/bin/gatehouse for the package.
        Assert.Equal(["/usr/local/bin/gatehouse proxy -config=/etc/gatehouse/proxy.hcl"], unit["ExecStart"]);
        Assert.Equal(["gatehouse"], unit["User"]);
        Assert.Equal(["gatehouse"], unit["Group"]);
        Assert.Equal(["gatehouse"], unit["RuntimeDirectory"]);
        Assert.Equal(["gatehouse"], unit["StateDirectory"]);
        Assert.Equal(["notify"], unit["Type"]);
    }

    [Fact]
    public void SampleConfiguration_IsValid_AndListensWhereThePackageSaysItDoes()
    {
        var path = Path.Combine(RepositoryRoot(), "packaging", "deb", "proxy.hcl");
        var result = ConfigLoader.Load([path], _ => null);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Contains(result.Config!.Listeners, l => l.Type == ListenerType.Unix && l.EffectiveAddress == "/run/gatehouse/gatehouse.sock");
        Assert.Contains(result.Config.Listeners, l => l.Type == ListenerType.Tcp && l.EffectiveAddress == "127.0.0.1:8100");
    }

    /// <summary>
    /// tests/deb/run.sh: build, dpkg -i, version, user and directories, systemd-analyze verify, the sample validated
    /// and served as the gatehouse user, purge. Without root it cannot install; it says so and this test checks that
    /// this is why.
    /// </summary>
    [Fact]
    [Trait("Executable", "true")] // under scripts/test-published.sh, run.sh packages the binary GATEHOUSE_TEST_EXECUTABLE names
    public async Task Package_BuildsInstallsAndServes()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/dpkg-deb"))
        {
            Assert.False(File.Exists("/usr/bin/dpkg"), "dpkg is here but dpkg-deb is not");
            return;
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "tests", "deb", "run.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout;
        Assert.True(process.ExitCode == 0, output + await stderr);
        string last = output.TrimEnd().Split('\n')[^1];
        if (last.Contains("SKIPPED", StringComparison.Ordinal))
        {
            Assert.Contains("needs root", last, StringComparison.Ordinal);
            Assert.NotEqual("0", IdU());
            return;
        }

        Assert.Equal("deb-test: passed", last);
        Assert.Contains("deb-test: gatehouse version: Gatehouse v", output, StringComparison.Ordinal);
    }

    private static string IdU()
    {
        using var id = Process.Start(new ProcessStartInfo("id", ["-u"]) { RedirectStandardOutput = true })!;
        string uid = id.StandardOutput.ReadToEnd().Trim();
        id.WaitForExit();
        return uid;
    }
}
