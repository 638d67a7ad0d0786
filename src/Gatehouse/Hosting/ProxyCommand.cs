using Gatehouse.Configuration;

namespace Gatehouse.Hosting;

/// <summary><c>gatehouse proxy</c> (alias <c>agent</c>): load and validate the configuration, then run the daemon.</summary>
internal static class ProxyCommand
{
    public const string Help = """
        Usage: gatehouse proxy -config=PATH [-config=PATH ...] [options]

        Runs the proxy daemon from Vault Agent / Vault Proxy configuration files. "agent" is an alias.
        Nothing starts unless the whole configuration is valid; every problem is listed.

        """ + ConfigArguments.FlagsHelp;

    public static Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken ct,
        string mode = "proxy")
    {
        if (ConfigArguments.Parse(args, out var error) is not { } parsed)
            return Task.FromResult(GatehouseCommand.UsageError(error, Help, stdout, stderr));

        // SIGHUP loads again exactly this way: the same paths, environment and flags (flags keep beating the files).
        ConfigLoadResult Load() => ConfigLoader.Load(parsed.ConfigPaths, environment, parsed.Overrides);
        var result = Load();
        if (!result.Succeeded)
        {
            ConfigReport.WriteProblems(result, stderr);
            return Task.FromResult(ExitCodes.Error);
        }

        return DaemonRunner.RunAsync(result.Config!, new GatehouseHostOptions { Mode = mode, Reload = Load, LogConsole = stderr }, stdout, stderr, ct);
    }
}
