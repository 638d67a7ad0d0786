using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary>Prints configuration problems for a person: every diagnostic (with its snippet), then a summary.</summary>
internal static class ConfigReport
{
    public static void WriteProblems(ConfigLoadResult result, TextWriter stderr)
    {
        foreach (var diagnostic in result.Diagnostics)
            stderr.WriteLine(diagnostic.ToDisplayString());
        var count = result.Diagnostics.Count;
        stderr.WriteLine($"error validating configuration: {count} problem{(count == 1 ? "" : "s")} found; nothing was started");
    }
}
