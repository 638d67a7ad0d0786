using Microsoft.AspNetCore.Builder;

namespace Gatehouse.Injector;

/// <summary><c>gatehouse-injector</c>: parse the flags and environment, then serve until SIGTERM.</summary>
internal static class InjectorProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["-h" or "-help" or "--help"])
        {
            Console.Out.WriteLine(InjectorOptions.Help);
            return 0;
        }

        if (InjectorOptions.Parse(args, Environment.GetEnvironmentVariable, out var error) is not { } options)
        {
            await Console.Error.WriteLineAsync($"gatehouse-injector: {error}\n\n{InjectorOptions.Help}");
            return 2;
        }

        await using var app = InjectorHost.Build(options);
        await app.RunAsync();
        return 0;
    }
}
