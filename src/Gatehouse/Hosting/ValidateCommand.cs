using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>gatehouse validate</c>: load and validate like <c>proxy</c>, then print the effective configuration as JSON
/// (secrets redacted) and exit 0, or print every problem and exit 1. Nothing is started.
/// </summary>
internal static class ValidateCommand
{
    public const string Help = """
        Usage: gatehouse validate -config=PATH [-config=PATH ...] [options]

        Checks the configuration and prints the effective merged configuration as JSON, secrets redacted.
        Exits 0 when it is valid and 1 otherwise, after listing every problem.

        """ + ConfigArguments.FlagsHelp;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment)
    {
        if (ConfigArguments.Parse(args, out var error) is not { } parsed)
            return GatehouseCommand.UsageError(error, Help, stdout, stderr);

        var result = ConfigLoader.Load(parsed.ConfigPaths, environment, parsed.Overrides);
        if (!result.Succeeded)
        {
            ConfigReport.WriteProblems(result, stderr);
            return ExitCodes.Error;
        }

        stdout.WriteLine(EffectiveConfigJson.Write(result.Config!));
        return ExitCodes.Success;
    }
}
