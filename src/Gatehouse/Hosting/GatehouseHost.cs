using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The running daemon's host, as <see cref="GatehouseHostBuilder"/> composed and started it. Tests start it in-process
/// on ephemeral ports (<c>127.0.0.1:0</c>) and read <see cref="Addresses"/>; <see cref="DaemonRunner"/> is the
/// daemon's whole life around it for <c>gatehouse proxy</c>/<c>agent</c>; <see cref="ConfigReloader"/> is SIGHUP.
/// </summary>
internal sealed partial class GatehouseHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatehouseHostOptions _options;
    private readonly ConfigReloader _reloader;

    private GatehouseHost(WebApplication app, IReadOnlyList<BoundListener> addresses, GatehouseHostOptions options, LoggingSettings logging)
    {
        _app = app;
        Addresses = addresses;
        _options = options;
        Logging = logging;
        _reloader = app.Services.GetRequiredService<ConfigReloader>();
    }

    /// <summary>The logging settings of the start-up configuration (a reload changes only the level).</summary>
    public LoggingSettings Logging { get; }

    /// <summary>Each listener's bound address, in listener order.</summary>
    public IReadOnlyList<BoundListener> Addresses { get; }

    /// <summary>The configuration in effect: the startup one, or the last one a reload accepted.</summary>
    public GatehouseConfig Config => _reloader.Config;

    public IServiceProvider Services => _app.Services;

    public TokenStore TokenStore => _app.Services.GetRequiredService<TokenStore>();

    /// <summary>The level Gatehouse logs at now (a reload may change it).</summary>
    public LogLevel LogLevel => _app.Services.GetRequiredService<LogLevelSwitch>().Minimum;

    /// <summary>Completes once the host begins to stop (quit endpoint, signal, <see cref="StopAsync"/>).</summary>
    public Task Stopping => TaskFor(_app.Lifetime.ApplicationStopping);

    /// <summary>
    /// Builds the host, binds every listener and starts serving. A listener that cannot start throws
    /// <see cref="Listeners.ListenerStartupException"/> naming it (a bind failure included); <see cref="StartupFailure"/>
    /// has a line for every exception start-up may throw.
    /// </summary>
    public static async Task<GatehouseHost> StartAsync(GatehouseConfig config, GatehouseHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GatehouseHostOptions();
        var (app, addresses) = await GatehouseHostBuilder.StartAsync(config, options, cancellationToken).ConfigureAwait(false);
        return new GatehouseHost(app, addresses, options, LoggingSettings.From(config, options.Mode));
    }

    /// <summary>The startup banner: every bound listener address, the log level, the version; JSON lines in JSON mode.</summary>
    public string Banner()
    {
        string product = _options.Mode == "agent" ? "Agent" : "Proxy";
        string[] addresses = [.. Addresses.Select(a => a.Address.OriginalString)];
        return Logging.Format == LogFormat.Json
            ? StartupBanner.RenderJson(product, addresses, VaultLogLevel.Name(LogLevel), ProductInfo.Version, Now, Logging.Root)
            : StartupBanner.Render(product, addresses, VaultLogLevel.Name(LogLevel), ProductInfo.Version);
    }

    /// <summary>
    /// Auto-auth asked the process to end: exit_on_err's reason is logged as Vault logs a run's error
    /// (<c>runtime error encountered</c>); exit_after_auth was logged by the sink server already.
    /// </summary>
    public void ReportExit(AuthOutcome outcome)
    {
        if (outcome.IsFatal && outcome.Message is { Length: > 0 } message)
        {
            Log.RuntimeError(_app.Services.GetRequiredService<ILogger<GatehouseHost>>(), message);
        }
    }

    private DateTimeOffset Now => (_options.TimeProvider ?? TimeProvider.System).GetUtcNow();

    /// <summary>SIGHUP (see <see cref="ConfigReloader"/>). Returns true when the new configuration was applied.</summary>
    public Task<bool> ReloadAsync(CancellationToken cancellationToken = default) => _reloader.ReloadAsync(cancellationToken);

    /// <summary>Completes when the host has stopped: a signal, the quit endpoint or <paramref name="cancellationToken"/>.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.GatehouseHostRuntimeError, LogLevel.Error, "runtime error encountered: error={Error}")]
        public static partial void RuntimeError(ILogger logger, string error);
    }

    private static Task TaskFor(CancellationToken token)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => completion.TrySetResult());
        return completion.Task;
    }
}

/// <summary>One listener as bound: its config, its URL (<c>http://127.0.0.1:54321</c>, <c>unix:///run/g.sock</c>).</summary>
internal sealed record BoundListener(int Index, ListenerConfig Config, Uri Address, string? SocketPath, System.Net.IPEndPoint? EndPoint);
