using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Gatehouse.Listeners;
using Gatehouse.Shared;
using Gatehouse.Sinks;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// Composes the daemon from each folder's <c>Add…</c> extension into a Kestrel host with one endpoint per listener and
/// a single terminal middleware, starts it, and reports each listener's bound address.
/// </summary>
internal static partial class GatehouseHostBuilder
{
    /// <summary>
    /// Builds the host, binds every listener and starts serving. A listener that cannot start throws
    /// <see cref="ListenerStartupException"/> naming it (a bind failure included).
    /// </summary>
    public static async Task<(WebApplication App, IReadOnlyList<BoundListener> Addresses)> StartAsync(
        GatehouseConfig config, GatehouseHostOptions options, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "gatehouse" });
        builder.WebHost.UseKestrelCore();
        var time = options.TimeProvider ?? TimeProvider.System;
        ConfigureLogging(builder, config, options, time);

        var services = builder.Services;
        // Under systemd (Type=notify): READY=1 once started, STOPPING=1 at stop; elsewhere it does nothing.
        services.AddSystemd();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        services.Configure<ConsoleLifetimeOptions>(console => console.SuppressStatusMessages = true);
        services.AddSingleton(config);
        services.AddSingleton(time);
        if (options.TokenStore is not null)
        {
            services.AddSingleton(options.TokenStore);
        }

        services.TryAddSingleton<TokenStore>();
        services.AddMetrics();
        services.AddHostedService<MemoryTrimmer>();
        services.AddTelemetry(config);
        options.ConfigureServices?.Invoke(services);

        services.AddShared(config);

        // The flow, in order: auto-auth → sinks → API proxy → cache → listeners; health reads auth, reachability and cache.
        services.AddAutoAuth(config);
        services.AddSinks(config);
        services.AddApiProxy(config, options.ApiProxy);
        services.AddLeaseCache(config);
        services.AddListeners(config, options.HalfClosedGrace, options.TimeProvider);
        services.AddSingleton(sp => new HealthEndpoint(
            new HealthState(
                config.AutoAuth is null ? null : sp.GetRequiredService<TokenStore>(),
                sp.GetRequiredService<VaultReachability>(),
                sp.GetService<LeaseCache>() is { } cache ? () => cache.Index.Count : null,
                config.Cache?.Shared is null ? null : sp.SharedHealth(),
                sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ConfigReloader(
            config,
            options.Reload,
            sp.GetRequiredService<ListenerBindings>(),
            options.LoggerFactory is null ? sp.GetRequiredService<LogLevelSwitch>() : null,
            options.Mode,
            sp.GetRequiredService<ILogger<ConfigReloader>>(),
            sp.GetService<SharedKeys>()));

        var app = builder.Build();
        try
        {
            // Listening before anything records: the first login and the first request are counted.
            app.Services.GetRequiredService<MetricsCollector>();
            app.Services.GetRequiredService<VaultReachability>();
            app.Services.GetService<MetricsPusher>();
            var startupLogger = app.Services.GetRequiredService<ILogger<GatehouseHost>>();
            if (MetricsOptions.HostnameWarning(config.Telemetry) is { } hostnameWarning)
            {
                Log.TelemetryWarning(startupLogger, hostnameWarning);
            }

            // One line when a stop begins (signal, quit endpoint, exit_after_auth) and one when it has finished.
            long stopping = 0;
            app.Lifetime.ApplicationStopping.Register(() =>
            {
                stopping = time.GetTimestamp();
                Log.ShutdownTriggered(startupLogger);
            });
            app.Lifetime.ApplicationStopped.Register(() => Log.ShutdownComplete(startupLogger, time.GetElapsedTime(stopping)));

            var dispatcher = app.Services.GetRequiredService<RequestDispatcher>();
            app.Run(dispatcher.HandleAsync);

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return (app, BindingsAfterStart(app.Services.GetRequiredService<ListenerBindings>()));
        }
        catch (Exception exception)
        {
            // The details for a bug report, at Debug; the caller prints one line (StartupFailure).
            Log.StartupFailed(app.Services.GetRequiredService<ILogger<GatehouseHost>>(), exception.ToString());
            var bindings = app.Services.GetRequiredService<ListenerBindings>();
            await app.DisposeAsync().ConfigureAwait(false);

            // Kestrel does not say which listener it could not bind: find it, now that the others are released.
            if (ListenerBindings.IsBindFailure(exception))
            {
                throw bindings.DescribeBindFailure(exception);
            }

            throw;
        }
    }

    private static List<BoundListener> BindingsAfterStart(ListenerBindings bindings)
    {
        var result = new List<BoundListener>();
        foreach (var (index, config, listen) in bindings.Bound)
        {
            var https = !config.TlsDisable;
            if (listen.SocketPath is { } socketPath)
            {
                if (!OperatingSystem.IsWindows())
                {
                    UnixSocketPermissions.Apply(socketPath, config, ListenerFeature.Describe(index, config));
                }

                result.Add(new BoundListener(index, config, new Uri($"unix://{socketPath}"), socketPath, null));
            }
            else
            {
                var endPoint = listen.IPEndPoint!;
                var uri = new Uri($"{(https ? "https" : "http")}://{endPoint}");
                result.Add(new BoundListener(index, config, uri, null, endPoint));
            }
        }

        return result;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, GatehouseConfig config, GatehouseHostOptions options, TimeProvider time)
    {
        var levelSwitch = new LogLevelSwitch();
        builder.Services.AddSingleton(levelSwitch);
        if (options.LoggerFactory is { } factory)
        {
            builder.Services.AddSingleton(factory);
            return;
        }

        // log_level for Gatehouse; Microsoft.* and System.* at Warning unless trace (their per-request Information lines
        // cost a third of a proxied request). The switch is what a SIGHUP changes.
        var settings = LoggingSettings.From(config, options.Mode);
        builder.Logging.AddGatehouseLogging(settings, levelSwitch, options.LogConsole ?? Console.Error, time);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.GatehouseHostBuilderTelemetryWarning, LogLevel.Warning, "{Warning}")]
        public static partial void TelemetryWarning(ILogger logger, string warning);

        [LoggerMessage(LogEvents.GatehouseHostBuilderStartupFailed, LogLevel.Debug, "start-up failed: {Detail}")]
        public static partial void StartupFailed(ILogger logger, string detail);

        [LoggerMessage(LogEvents.GatehouseHostShutdownTriggered, LogLevel.Information, "shutdown triggered")]
        public static partial void ShutdownTriggered(ILogger logger);

        [LoggerMessage(LogEvents.GatehouseHostShutdownComplete, LogLevel.Information, "shutdown complete: elapsed={Elapsed}")]
        public static partial void ShutdownComplete(ILogger logger, TimeSpan elapsed);
    }
}
