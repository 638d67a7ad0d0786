using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Gatehouse.IntegrationTests.RealClients;

/// <summary>Runs a client script as a child process, bounded in time, with stdout and stderr captured in order.</summary>
internal static class ClientProcess
{
    /// <summary>A safety net so a hung client fails the test instead of hanging it; a session takes about a second.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The exit code of a script that found its client library missing (tests/clients/*).</summary>
    public const int MissingDependency = 3;

    /// <summary>Tells the runner the program itself could not be started (not installed).</summary>
    public const int NotStarted = -1;

    public const int TimedOut = -2;

    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = DevSessionFixture.RepositoryRoot,
        };
        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception exception)
        {
            return (NotStarted, $"{fileName} could not be started: {exception.Message}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Append($"(killed: no exit after {Timeout.TotalSeconds:0} s)");
            return (TimedOut, Text());
        }

        Append($"(exit code {process.ExitCode} after {stopwatch.Elapsed.TotalSeconds:0.00} s)");
        return (process.ExitCode, Text());

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }
}
