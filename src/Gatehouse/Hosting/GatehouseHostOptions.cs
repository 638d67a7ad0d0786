using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>What a caller of <see cref="GatehouseHost.StartAsync"/> may supply beyond the configuration.</summary>
internal sealed record GatehouseHostOptions
{
    /// <summary>The clock every wait, schedule and expiry uses. The default is the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Replaces Gatehouse's own logging (tests). The default is <c>AddGatehouseLogging</c>: log_level, log_format and
    /// log_file from the configuration, to <see cref="LogConsole"/> and the log file.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Where the console log lines go. The default is stderr.</summary>
    public TextWriter? LogConsole { get; init; }

    /// <summary>"proxy" or "agent": the banner's product name and the default log file name (proxy.log, agent.log).</summary>
    public string Mode { get; init; } = "proxy";

    /// <summary>
    /// Re-reads the configuration on SIGHUP: the same -config paths, environment and flags as at startup. Null: a
    /// reload only logs that there is nothing to reload from.
    /// </summary>
    public Func<ConfigLoadResult>? Reload { get; init; }

    /// <summary>How long a request may go on after its client shut down its write side (null: 10 seconds).</summary>
    public TimeSpan? HalfClosedGrace { get; init; }

    /// <summary>How long a graceful stop waits for requests in flight. The default is 10 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The auto-auth token store to use; tests publish tokens into it. The default is a new one.</summary>
    public TokenStore? TokenStore { get; init; }

    /// <summary>Proxy knobs not in the config file (first-token wait, upstream timeout, retry budget, jitter).</summary>
    public ApiProxyOptions ApiProxy { get; init; } = new();

    /// <summary>Extra registrations before the host is built: auto-auth, sinks, a cache, test doubles.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
