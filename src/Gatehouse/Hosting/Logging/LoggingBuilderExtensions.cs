using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

internal static class LoggingBuilderExtensions
{
    /// <summary>
    /// Replaces every provider with Gatehouse's: Vault's formats on <paramref name="console"/> (stderr in the daemon)
    /// and the optional rotating log file, filtered by <paramref name="levelSwitch"/> so SIGHUP can change the level.
    /// The log file is opened here, so a bad path throws (IOException, UnauthorizedAccessException) at startup.
    /// </summary>
    public static ILoggingBuilder AddGatehouseLogging(
        this ILoggingBuilder builder, LoggingSettings settings, LogLevelSwitch levelSwitch, TextWriter? console, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        LogFile? file = null;
        if (settings.FilePath is not null)
        {
            file = new LogFile(settings.FilePath, time, settings.RotateBytes, settings.RotateDuration, settings.RotateMaxFiles);
            file.Open();
        }

        levelSwitch.Minimum = settings.Level;
        builder.ClearProviders();
        // Everything reaches the provider; the switch decides, so a change needs no rebuild of the filter rules.
        builder.SetMinimumLevel(LogLevel.Trace);
        builder.AddProvider(new GatehouseLoggerProvider(levelSwitch, settings.Format, console, file, time, settings.Root));
        return builder;
    }
}
