namespace Gatehouse.Hcl.Tests;

/// <summary>The fixture files copied beside the test assembly.</summary>
internal static class Fixtures
{
    public static string ValidDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "valid");

    public static string ValidPath(string name) => Path.Combine(ValidDirectory, name);

    public static IEnumerable<string> ValidFiles() =>
        Directory.EnumerateFiles(ValidDirectory).Order(StringComparer.Ordinal);
}
