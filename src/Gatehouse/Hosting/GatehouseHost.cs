using System.Security.Cryptography.X509Certificates;
using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Gatehouse.Listeners;
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
/// The running daemon: a Kestrel host with one endpoint per listener and a single terminal middleware, composed from
/// each folder's <c>Add…</c> extension. Tests start it in-process on ephemeral ports (<c>127.0.0.1:0</c>) and read
/// <see cref="Addresses"/>; <see cref="RunAsync"/> is the daemon's whole life for <c>gatehouse proxy</c>/<c>agent</c>
/// (banner, pid file, signals, graceful stop).
/// </summary>
internal sealed partial class GatehouseHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatehouseHostOptions _options;
    private readonly ILogger<GatehouseHost> _logger;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);

    private GatehouseHost(WebApplication app, IReadOnlyList<BoundListener> addresses, GatehouseConfig config, GatehouseHostOptions options)
    {
        _app = app;
        Addresses = addresses;
        Config = config;
        _options = options;
        _logger = app.Services.GetRequiredService<ILogger<GatehouseHost>>();
    }

    /// <summary>Each listener's bound address, in listener order.</summary>
    public IReadOnlyList<BoundListener> Addresses { get; }

    /// <summary>The configuration in effect: the startup one, or the last one a reload accepted.</summary>
    public GatehouseConfig Config { get; private set; }

    public IServiceProvider Services => _app.Services;

    public TokenStore TokenStore => _app.Services.GetRequiredService<TokenStore>();

    /// <summary>The level Gatehouse logs at now (a reload may change it).</summary>
    public LogLevel LogLevel => _app.Services.GetRequiredService<LogLevelSwitch>().Minimum;

    /// <summary>Completes once the host begins to stop (quit endpoint, signal, <see cref="StopAsync"/>).</summary>
    public Task Stopping => TaskFor(_app.Lifetime.ApplicationStopping);

    /// <summary>
    /// Builds the host, binds every listener and starts serving. A listener that cannot start throws
    /// <see cref="ListenerStartupException"/> naming it (a bind failure included); <see cref="StartupFailure"/> has a
    /// line for every exception start-up may throw.
    /// </summary>
    public static async Task<GatehouseHost> StartAsync(GatehouseConfig config, GatehouseHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GatehouseHostOptions();
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
                sp.GetService<LeaseCache>() is { } cache ? () => cache.Index.Count : null),
            sp.GetRequiredService<TimeProvider>()));

        var app = builder.Build();
        try
        {
            // Listening before anything records: the first login and the first request are counted.
            app.Services.GetRequiredService<MetricsCollector>();
            var startupLogger = app.Services.GetRequiredService<ILogger<GatehouseHost>>();
            foreach (var warning in MetricsOptions.UnsupportedSinkWarnings(config.Telemetry))
            {
                Log.UnsupportedTelemetrySink(startupLogger, warning);
            }

            var dispatcher = app.Services.GetRequiredService<RequestDispatcher>();
            app.Run(dispatcher.HandleAsync);

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = BindingsAfterStart(app.Services.GetRequiredService<ListenerBindings>());
            return new GatehouseHost(app, addresses, config, options);
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

    /// <summary>
    /// The daemon: start, write the pid file, print the banner, serve until a signal, the quit endpoint or
    /// <paramref name="cancellationToken"/>, stop gracefully (in-flight requests get <see cref="GatehouseHostOptions.ShutdownTimeout"/>),
    /// remove the pid file. SIGHUP reloads through <see cref="GatehouseHostOptions.Reload"/>. Returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(
        GatehouseConfig config, GatehouseHostOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        GatehouseHost host;
        try
        {
            host = await StartAsync(config, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One line, never a stack trace: a listener, a sink directory, a TLS or log file, or (a bug) anything else.
            await stderr.WriteLineAsync(StartupFailure.Describe(exception)).ConfigureAwait(false);
            return ExitCodes.Error;
        }

        await using (host.ConfigureAwait(false))
        {
            // Vault writes the pid file after the listeners start and refuses to run without it.
            string? pidError = null;
            using var pidFile = config.PidFile is { Length: > 0 } pidPath ? PidFile.TryWrite(pidPath, out pidError) : null;
            if (pidError is not null)
            {
                await stderr.WriteLineAsync(pidError).ConfigureAwait(false);
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            await stdout.WriteAsync(host.Banner()).ConfigureAwait(false);
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            // SIGHUP reloads (systemd hears RELOADING=1 … READY=1); SIGTERM/SIGINT are the host lifetime's: a graceful stop.
            using var signals = new SignalHandlers(host.ReloadAsync, stop: null, SystemdNotifier.FromEnvironment());
            signals.Register();

            // Whichever comes first: a signal / the quit endpoint / cancellation (exit 0), or auto-auth asking to end
            // the process (exit_on_err: 1, exit_after_auth: 0).
            var autoAuthExit = host.Services.GetRequiredService<AutoAuthExit>().Requested;
            var shutdown = host._app.WaitForShutdownAsync(cancellationToken);
            if (await Task.WhenAny(shutdown, autoAuthExit).ConfigureAwait(false) == autoAuthExit)
            {
                var outcome = await autoAuthExit.ConfigureAwait(false);
                if (outcome.Message is { Length: > 0 } message)
                {
                    await stderr.WriteLineAsync(message).ConfigureAwait(false);
                }

                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return outcome.ExitCode;
            }

            await shutdown.ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    /// <summary>The startup banner: every bound listener address, the log level, the version.</summary>
    public string Banner() => StartupBanner.Render(
        _options.Mode == "agent" ? "Agent" : "Proxy",
        [.. Addresses.Select(a => a.Address.OriginalString)],
        VaultLogLevel.Name(LogLevel),
        ProductInfo.Version);

    /// <summary>
    /// SIGHUP: re-read and re-validate every config file (same paths, environment and flags as at startup), then apply
    /// log_level and the listeners' TLS certificates. Nothing is applied unless everything is valid; every problem is
    /// logged and the old configuration stays. Reloads never overlap. Returns true when the new configuration was applied.
    /// </summary>
    public async Task<bool> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Reload();
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    private bool Reload()
    {
        // Step map: 1. load and validate; 2. logging settings; 3. read every TLS certificate; 4. only then apply.
        if (_options.Reload is not { } load)
        {
            Log.NothingToReload(_logger);
            return false;
        }

        Log.Reloading(_logger);
        var result = load();
        if (!result.Succeeded)
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                Log.ReloadProblem(_logger, diagnostic.ToDisplayString());
            }

            Log.ReloadRejected(_logger, result.Diagnostics.Count);
            return false;
        }

        var config = result.Config!;
        var problems = new List<string>();
        var settings = LoggingSettings.From(config, DefaultLogFileName(_options));

        var bindings = _app.Services.GetRequiredService<ListenerBindings>();
        var certificates = new List<(ListenerCertificate Holder, X509Certificate2 Certificate)>();
        if (config.Listeners.Count != bindings.Listeners.Count)
        {
            Log.ListenersNeedRestart(_logger, bindings.Listeners.Count, config.Listeners.Count);
        }

        foreach (var (index, holder) in bindings.Certificates)
        {
            if (index >= config.Listeners.Count || config.Listeners[index].TlsDisable)
            {
                continue;
            }

            try
            {
                certificates.Add((holder, ListenerTls.LoadCertificate(config.Listeners[index], ListenerFeature.Describe(index, config.Listeners[index]))));
            }
            catch (ListenerStartupException exception)
            {
                problems.Add(exception.Message);
            }
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                Log.ReloadProblem(_logger, problem);
            }

            Log.ReloadRejected(_logger, problems.Count);
            foreach (var (_, certificate) in certificates)
            {
                certificate.Dispose();
            }

            return false;
        }

        if (_options.LoggerFactory is null)
        {
            _app.Services.GetRequiredService<LogLevelSwitch>().Minimum = settings.Level;
        }

        foreach (var (holder, certificate) in certificates)
        {
            holder.Swap(certificate);
        }

        Config = config;
        Log.Reloaded(_logger, VaultLogLevel.Name(settings.Level), certificates.Count);
        return true;
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _reloadGate.Dispose();
    }

    private static string DefaultLogFileName(GatehouseHostOptions options) => options.Mode == "agent" ? "agent.log" : "proxy.log";

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
        var settings = LoggingSettings.From(config, DefaultLogFileName(options));
        builder.Logging.AddGatehouseLogging(settings, levelSwitch, options.LogConsole ?? Console.Error, time);
    }

    private static Task TaskFor(CancellationToken token)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => completion.TrySetResult());
        return completion.Task;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Warning}")]
        public static partial void UnsupportedTelemetrySink(ILogger logger, string warning);

        [LoggerMessage(2, LogLevel.Information, "SIGHUP received: reloading the configuration")]
        public static partial void Reloading(ILogger logger);

        [LoggerMessage(3, LogLevel.Error, "error reloading configuration: {Problem}")]
        public static partial void ReloadProblem(ILogger logger, string problem);

        [LoggerMessage(4, LogLevel.Error, "the new configuration has {Count} problem(s); the previous configuration stays in effect")]
        public static partial void ReloadRejected(ILogger logger, int count);

        [LoggerMessage(5, LogLevel.Information, "configuration reloaded: log level {Level}, {Certificates} listener certificate(s) reloaded")]
        public static partial void Reloaded(ILogger logger, string level, int certificates);

        [LoggerMessage(6, LogLevel.Warning, "the reloaded configuration has {New} listener(s) instead of {Old}; listener changes other than TLS certificates need a restart")]
        public static partial void ListenersNeedRestart(ILogger logger, int old, int @new);

        [LoggerMessage(7, LogLevel.Warning, "SIGHUP received, but this process has no configuration files to reload from")]
        public static partial void NothingToReload(ILogger logger);

        [LoggerMessage(8, LogLevel.Debug, "start-up failed: {Detail}")]
        public static partial void StartupFailed(ILogger logger, string detail);
    }
}

/// <summary>One listener as bound: its config, its URL (<c>http://127.0.0.1:54321</c>, <c>unix:///run/g.sock</c>).</summary>
internal sealed record BoundListener(int Index, ListenerConfig Config, Uri Address, string? SocketPath, System.Net.IPEndPoint? EndPoint);
