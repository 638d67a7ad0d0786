using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The daemon's life for <c>gatehouse proxy</c>/<c>agent</c>: start the host, write the pid file, print the banner,
/// serve until a signal, the quit endpoint or cancellation, stop gracefully, remove the pid file. Returns the exit code.
/// </summary>
internal static class DaemonRunner
{
    /// <summary>
    /// In-flight requests get <see cref="GatehouseHostOptions.ShutdownTimeout"/> at a graceful stop; SIGHUP reloads
    /// through <see cref="GatehouseHostOptions.Reload"/>.
    /// </summary>
    public static async Task<int> RunAsync(
        GatehouseConfig config, GatehouseHostOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // Every line of a run in the chosen format: what is written here without a logger too (hclog JSON in JSON mode).
        var logging = LoggingSettings.From(config, options.Mode);
        var time = options.TimeProvider ?? TimeProvider.System;
        GatehouseHost host;
        try
        {
            host = await GatehouseHost.StartAsync(config, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One line, never a stack trace: a listener, a sink directory, a TLS or log file, or (a bug) anything else.
            await stderr.WriteAsync(logging.ConsoleLine(time.GetUtcNow(), LogLevel.Error, StartupFailure.Describe(exception))).ConfigureAwait(false);
            return ExitCodes.Error;
        }

        await using (host.ConfigureAwait(false))
        {
            // Vault writes the pid file after the listeners start and refuses to run without it.
            string? pidError = null;
            using var pidFile = config.PidFile is { Length: > 0 } pidPath ? PidFile.TryWrite(pidPath, out pidError) : null;
            if (pidError is not null)
            {
                await stderr.WriteAsync(logging.ConsoleLine(time.GetUtcNow(), LogLevel.Error, pidError)).ConfigureAwait(false);
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            await stdout.WriteAsync(host.Banner()).ConfigureAwait(false);
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            // SIGHUP reloads (systemd hears RELOADING=1 … READY=1); SIGTERM/SIGINT are the host lifetime's: a graceful stop.
            // The notifier UseSystemd registered under systemd; elsewhere one that finds no $NOTIFY_SOCKET and does nothing.
            var systemd = host.Services.GetService<ISystemdNotifier>() ?? new SystemdNotifier();
            using var signals = new SignalHandlers(host.ReloadAsync, stop: null, systemd);
            signals.Register();

            // Whichever comes first: a signal / the quit endpoint / cancellation (exit 0), or auto-auth asking to end
            // the process (exit_on_err: 1, exit_after_auth: 0).
            var autoAuthExit = host.Services.GetRequiredService<AutoAuthExit>().Requested;
            var shutdown = host.WaitForShutdownAsync(cancellationToken);
            if (await Task.WhenAny(shutdown, autoAuthExit).ConfigureAwait(false) == autoAuthExit)
            {
                var outcome = await autoAuthExit.ConfigureAwait(false);
                host.ReportExit(outcome);

                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return outcome.ExitCode;
            }

            await shutdown.ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
