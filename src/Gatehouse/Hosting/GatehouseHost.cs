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
internal sealed class GatehouseHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GatehouseHostOptions _options;
    private readonly ConfigReloader _reloader;

    private GatehouseHost(WebApplication app, IReadOnlyList<BoundListener> addresses, GatehouseHostOptions options)
    {
        _app = app;
        Addresses = addresses;
        _options = options;
        _reloader = app.Services.GetRequiredService<ConfigReloader>();
    }

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
        return new GatehouseHost(app, addresses, options);
    }

    /// <summary>The startup banner: every bound listener address, the log level, the version.</summary>
    public string Banner() => StartupBanner.Render(
        _options.Mode == "agent" ? "Agent" : "Proxy",
        [.. Addresses.Select(a => a.Address.OriginalString)],
        VaultLogLevel.Name(LogLevel),
        ProductInfo.Version);

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

    private static Task TaskFor(CancellationToken token)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => completion.TrySetResult());
        return completion.Task;
    }
}

/// <summary>One listener as bound: its config, its URL (<c>http://127.0.0.1:54321</c>, <c>unix:///run/g.sock</c>).</summary>
internal sealed record BoundListener(int Index, ListenerConfig Config, Uri Address, string? SocketPath, System.Net.IPEndPoint? EndPoint);
