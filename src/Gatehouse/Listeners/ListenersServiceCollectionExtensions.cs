using Gatehouse.Configuration;
using Gatehouse.Listeners;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

internal static class ListenersServiceCollectionExtensions
{
    /// <summary>Every listener block as a Kestrel endpoint, plus the request dispatcher and the built-in endpoints.</summary>
    /// <param name="halfClosedGrace">How long a request may go on after its client shut down its write side (null: the default).</param>
    public static IServiceCollection AddListeners(this IServiceCollection services, GatehouseConfig config, TimeSpan? halfClosedGrace = null, TimeProvider? time = null)
    {
        var bindings = new ListenerBindings(config.Listeners, halfClosedGrace, time);
        services.AddSingleton(bindings);
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(bindings);
        services.AddSingleton<RequestDispatcher>();

        // ASP.NET Core's hosting diagnostics start an Activity and push a logging scope for every request whenever its
        // logger is enabled at any level, even though it only ever writes per-request Information lines (which no
        // configuration of ours shows); unhandled errors are logged by Kestrel. Turning the category off saves both
        // per request (about 1-2 µs of CPU and 5 allocations in the profile of a proxied request).
        services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None, null)));
        return services;
    }
}
