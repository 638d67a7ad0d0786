using Gatehouse.Configuration;
using Gatehouse.Listeners;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

internal static class ListenersServiceCollectionExtensions
{
    /// <summary>Every listener block as a Kestrel endpoint, plus the request dispatcher and the built-in endpoints.</summary>
    public static IServiceCollection AddListeners(this IServiceCollection services, GatehouseConfig config)
    {
        var bindings = new ListenerBindings(config.Listeners);
        services.AddSingleton(bindings);
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(bindings);
        services.AddSingleton<RequestDispatcher>();
        return services;
    }
}
