namespace Gatehouse.Hosting;

/// <summary>The <c>gatehouse</c> command line: picks a subcommand and returns its exit code.</summary>
internal static class GatehouseCommand
{

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, stdout, stderr, Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>
    /// As above, with the environment supplied (tests pass their own). The last resort: an exception no command
    /// expected (a bug) ends the process with one line on stderr and exit code 1, never a stack trace and the
    /// runtime's abort.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        try
        {
            return await DispatchAsync(args, stdout, stderr, environment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"Error: {exception.GetType().Name}: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    private static Task<int> DispatchAsync(
        string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var rest = args.Skip(1).ToArray();
        switch (args.FirstOrDefault())
        {
            case "version" or "-version" or "--version" when args.Length == 1:
                stdout.WriteLine($"Gatehouse v{ProductInfo.Version}");
                return Task.FromResult(ExitCodes.Success);
            case "proxy" or "agent":
                return ProxyCommand.RunAsync(rest, stdout, stderr, environment, cancellationToken, mode: args[0]);
            case "dev":
                return DevCommand.RunAsync(rest, stdout, stderr, onReady: null, cancellationToken);
            case "validate":
                return Task.FromResult(ValidateCommand.Run(rest, stdout, stderr, environment));
            case "health":
                return HealthCommand.RunAsync(rest, stdout, stderr, environment, cancellationToken);
            case "help" or "-h" or "-help" or "--help":
                stdout.WriteLine(Usage);
                return Task.FromResult(ExitCodes.Success);
            default:
                stderr.WriteLine(Usage);
                return Task.FromResult(ExitCodes.Error);
        }
    }

    /// <summary>
    /// Prints a usage error and the subcommand's help to stderr and exits 1, as in Vault; an explicit -help prints the
    /// help to stdout and exits 0.
    /// </summary>
    public static int UsageError(string error, string help, TextWriter stdout, TextWriter stderr)
    {
        if (error == ConfigArguments.HelpRequested)
        {
            stdout.WriteLine(help);
            return ExitCodes.Success;
        }

        stderr.WriteLine(error);
        stderr.WriteLine();
        stderr.WriteLine(help);
        return ExitCodes.Error;
    }

    public const string Usage = """
        Usage: gatehouse <command> [options]

        Commands:
            dev        Run DevVault (in-memory Vault) with the proxy in front of it, for trying Gatehouse out.
            health     Ask a running Gatehouse whether it is ready or live (exit 0 when it is, 1 when not).
            proxy      Run the proxy daemon from Vault Agent/Proxy config files (alias: agent).
            validate   Check config files and print the effective configuration as JSON.
            version    Print the version.

        Run "gatehouse <command> -help" for a command's options.
        """;
}
