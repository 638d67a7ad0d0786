using System.Reflection;

namespace Gatehouse.Hosting;

/// <summary>The <c>gatehouse</c> command line: picks a subcommand and returns its exit code.</summary>
internal static class GatehouseCommand
{
    public static string Version { get; } =
        typeof(GatehouseCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (args.Length == 1 && args[0] is "version" or "-version" or "--version")
        {
            stdout.WriteLine($"Gatehouse v{Version}");
            return Task.FromResult(ExitCodes.Success);
        }

        stderr.WriteLine(Usage);
        return Task.FromResult(ExitCodes.Error);
    }

    public const string Usage = """
        Usage: gatehouse <command> [options]

        Commands:
            version    Print the version.
        """;
}
