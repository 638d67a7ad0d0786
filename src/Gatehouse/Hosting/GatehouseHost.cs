using Gatehouse.AutoAuth;
using Gatehouse.Cache.Persistence;
using Gatehouse.Configuration;
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
/// <see cref="Addresses"/>; <see cref="RunAsync"/> is the daemon's whole life for <c>gatehouse proxy</c>/<c>agent</c>.
/// </summary>
internal sealed class GatehouseHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatehouseHost(WebApplication app, IReadOnlyList<BoundListener> addresses)
    {
        _app = app;
        Addresses = addresses;
    }

    /// <summary>Each listener's bound address, in listener order.</summary>
    public IReadOnlyList<BoundListener> Addresses { get; }

    public IServiceProvider Services => _app.Services;

    public TokenStore TokenStore => _app.Services.GetRequiredService<TokenStore>();

    /// <summary>Completes once the host begins to stop (quit endpoint, signal, <see cref="StopAsync"/>).</summary>
    public Task Stopping => TaskFor(_app.Lifetime.ApplicationStopping);

    /// <summary>Builds the host, binds every listener and starts serving. Listener problems throw <see cref="ListenerStartupException"/>.</summary>
    public static async Task<GatehouseHost> StartAsync(GatehouseConfig config, GatehouseHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GatehouseHostOptions();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "gatehouse" });
        builder.WebHost.UseKestrelCore();
        ConfigureLogging(builder, config, options);

        var services = builder.Services;
        services.AddSingleton(config);
        services.AddSingleton(options.TimeProvider ?? TimeProvider.System);
        if (options.TokenStore is not null)
        {
            services.AddSingleton(options.TokenStore);
        }

        services.TryAddSingleton<TokenStore>();
        services.AddMetrics();
        services.TryAddSingleton<GatehouseMetrics>();
        options.ConfigureServices?.Invoke(services);

        // The flow, in order: auto-auth → sinks → API proxy (→ cache, when it lands) → listeners.
        services.AddAutoAuth(config);
        services.AddSinks(config);
        services.AddApiProxy(config, options.ApiProxy);
        services.AddLeaseCache(config);
        services.AddListeners(config);

        var app = builder.Build();
        var dispatcher = app.Services.GetRequiredService<RequestDispatcher>();
        app.Run(dispatcher.HandleAsync);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = BindingsAfterStart(app.Services.GetRequiredService<ListenerBindings>());
            return new GatehouseHost(app, addresses);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The daemon: start, print the listener addresses, serve until a signal, the quit endpoint or
    /// <paramref name="cancellationToken"/>, stop gracefully. Returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(GatehouseConfig config, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        GatehouseHost host;
        try
        {
            host = await StartAsync(config, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (ListenerStartupException exception)
        {
            await stderr.WriteLineAsync($"Error starting listener: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (IOException exception)
        {
            // Kestrel's bind failures (address in use, no permission) name the address.
            await stderr.WriteLineAsync($"Error starting listener: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (AutoAuthConfigException exception)
        {
            await stderr.WriteLineAsync($"Error creating auth method: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (CachePersistException exception)
        {
            // A bad key_file/key_env_var, or a restore error with persist.exit_on_err = true.
            await stderr.WriteLineAsync($"Error restoring the persistent cache: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        await using (host.ConfigureAwait(false))
        {
            await stdout.WriteLineAsync("==> Gatehouse started! Log data will stream in below:").ConfigureAwait(false);
            await stdout.WriteLineAsync().ConfigureAwait(false);
            foreach (var listener in host.Addresses)
            {
                await stdout.WriteLineAsync($"          Api Address {listener.Index + 1}: {listener.Address}").ConfigureAwait(false);
            }

            await stdout.WriteLineAsync($"                 Version: Gatehouse v{GatehouseCommand.Version}").ConfigureAwait(false);
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);

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

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
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

    private static void ConfigureLogging(WebApplicationBuilder builder, GatehouseConfig config, GatehouseHostOptions options)
    {
        if (options.LoggerFactory is { } factory)
        {
            builder.Services.AddSingleton(factory);
            return;
        }

        // Libraries (Kestrel, YARP, hosting) at Warning: their per-request Information lines cost a third of a proxied
        // request. Gatehouse's own categories follow log_level; nothing of ours logs per request above Debug.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Gatehouse", GatehouseLogLevel(config.LogLevel));
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(
            console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static LogLevel GatehouseLogLevel(string? level) => (level ?? Defaults.LogLevel).ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Information,
    };

    private static Task TaskFor(CancellationToken token)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => completion.TrySetResult());
        return completion.Task;
    }
}

/// <summary>One listener as bound: its config, its URL (<c>http://127.0.0.1:54321</c>, <c>unix:///run/g.sock</c>).</summary>
internal sealed record BoundListener(int Index, ListenerConfig Config, Uri Address, string? SocketPath, System.Net.IPEndPoint? EndPoint);
