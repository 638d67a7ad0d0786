using Gatehouse.AutoAuth;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Sinks;

/// <summary>
/// Hosts the <see cref="SinkServer"/>. Start fails fast (throws <see cref="SinkStartupException"/>) when a sink's
/// directory is missing or read-only. With exit_after_auth it asks <see cref="AutoAuthExit"/> for exit code 0 once
/// every sink has written the first token.
/// </summary>
internal sealed partial class SinkService(SinkServer server, AutoAuthExit exit, bool exitAfterAuth, ILogger<SinkService> logger) : HostedLoop
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        server.CheckWritable();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var run = server.RunAsync(stoppingToken);
        if (exitAfterAuth)
        {
            await server.FirstTokenWritten.WaitAsync(stoppingToken).ConfigureAwait(false);
            Log.ExitAfterAuth(logger);
            exit.Request(AuthOutcome.ExitAfterAuth);
        }

        await run.ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SinkServiceExitAfterAuth, Level = LogLevel.Information, Message = "exit_after_auth: every sink has written the token; exiting")]
        public static partial void ExitAfterAuth(ILogger logger);
    }
}
