using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Tests.Configuration;

/// <summary>Loads fixtures and inline HCL for configuration tests; diagnostics are shown with bare file names.</summary>
internal static class ConfigTestSupport
{
    public static string FixturesDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "Configuration", "Fixtures");

    public static string SamplesDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "Samples");

    public static string Fixture(string name) => Path.Combine(FixturesDirectory, name);

    public static Func<string, string?> NoEnvironment { get; } = _ => null;

    public static ConfigLoadResult LoadFixture(string name, Func<string, string?>? environment = null, ConfigOverrides? flags = null) =>
        ConfigLoader.Load([Fixture(name)], environment ?? NoEnvironment, flags);

    /// <summary>Binds and validates HCL text (no file system).</summary>
    public static ConfigLoadResult FromHcl(string hcl, string fileName = "test.hcl") =>
        ConfigLoader.FromTree(HclParser.Parse(hcl, fileName), fileName);

    public static ConfigLoadResult FromJson(string json, string fileName = "test.json") =>
        ConfigLoader.FromTree(HclJsonParser.Parse(json, fileName), fileName);

    public static GatehouseConfig Valid(ConfigLoadResult result)
    {
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    /// <summary>Diagnostics as printed, with directories stripped from file names.</summary>
    public static IReadOnlyList<string> Lines(ConfigLoadResult result) =>
        [.. result.Diagnostics.Select(d => d.ToString().Replace(FixturesDirectory + Path.DirectorySeparatorChar, "", StringComparison.Ordinal))];
}
