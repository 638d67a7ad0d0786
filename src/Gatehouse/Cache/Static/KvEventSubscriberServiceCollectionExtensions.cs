using Gatehouse.AutoAuth;
using Gatehouse.Cache.Static;
using Gatehouse.Configuration;
using Gatehouse.Vault;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.DependencyInjection;

internal static class KvEventSubscriberServiceCollectionExtensions
{
    /// <summary>
    /// With <c>cache { cache_static_secrets = true }</c> and an <c>auto_auth</c> block: registers the
    /// <see cref="KvEventSubscriber"/> as a hosted service. It resolves <see cref="IKvChangeListener"/> (the static
    /// secret cache) and <see cref="TokenStore"/> when the host starts, and connects through its own handler built from
    /// the vault stanza's TLS settings (a WebSocket holds its connection for good, so it must not take one from the
    /// proxy's pool). Otherwise it registers nothing.
    /// </summary>
    public static IServiceCollection AddKvEventSubscriber(this IServiceCollection services, GatehouseConfig config, Func<double>? random = null)
    {
        if (config.Cache is not { CacheStaticSecrets: true } || config.AutoAuth is null)
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenStore>();
        services.AddSingleton(sp => new KvEventSubscriber(
            new Uri(config.Vault.EffectiveAddress),
            config.Vault.Namespace,
            new HttpMessageInvoker(UpstreamHandlerFactory.Create(config.Vault, disableKeepAlives: false, disableIdleConnections: false)),
            sp.GetRequiredService<TokenStore>(),
            sp.GetRequiredService<IKvChangeListener>(),
            sp.GetRequiredService<TimeProvider>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<KvEventSubscriber>(),
            random));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KvEventSubscriber>());
        return services;
    }
}
