using Microsoft.Extensions.Hosting;

namespace Gatehouse.AutoAuth;

/// <summary>Hosts the <see cref="AuthHandler"/> loop; a fatal outcome (exit_on_err) goes to <see cref="AutoAuthExit"/>.</summary>
internal sealed class AutoAuthService(AuthHandler handler, AutoAuthExit exit) : HostedLoop
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outcome = await handler.RunAsync(stoppingToken).ConfigureAwait(false);
        if (outcome.IsFatal)
        {
            exit.Request(outcome);
        }
    }
}
