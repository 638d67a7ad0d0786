using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>What a caller of <see cref="GatehouseHost.StartAsync"/> may supply beyond the configuration.</summary>
internal sealed record GatehouseHostOptions
{
    /// <summary>The clock every wait, schedule and expiry uses. The default is the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Where logs go. The default is the console (stderr), Warning for libraries, log_level for Gatehouse.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The auto-auth token store to use; tests publish tokens into it. The default is a new one.</summary>
    public TokenStore? TokenStore { get; init; }

    /// <summary>Proxy knobs not in the config file (first-token wait, upstream timeout, retry budget, jitter).</summary>
    public ApiProxyOptions ApiProxy { get; init; } = new();

    /// <summary>Extra registrations before the host is built: auto-auth, sinks, a cache, test doubles.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
