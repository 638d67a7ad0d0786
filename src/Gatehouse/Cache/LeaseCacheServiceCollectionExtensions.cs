using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Gatehouse.Cache.Persistence;
using Gatehouse.Cache.Static;
using Gatehouse.Configuration;
using Gatehouse.Shared;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.DependencyInjection;

internal static class LeaseCacheServiceCollectionExtensions
{
    /// <summary>
    /// With a <c>cache</c> stanza: decorates the registered <see cref="IVaultProxier"/> with the <see cref="LeaseCache"/>
    /// and registers the <see cref="CacheClearEndpoint"/> (the listeners route <c>…/cache-clear</c> to it). Works
    /// before or after <c>AddApiProxy</c>: with no proxier registered yet it wraps the <see cref="VaultForwarder"/>.
    /// </summary>
    public static IServiceCollection AddLeaseCache(this IServiceCollection services, GatehouseConfig config, IRenewalSender? renewalSender = null)
    {
        if (config.Cache is not { } cache)
        {
            return services;
        }

        var existing = services.LastOrDefault(d => d.ServiceType == typeof(IVaultProxier));
        Func<IServiceProvider, IVaultProxier> inner = existing switch
        {
            null => sp => sp.GetRequiredService<VaultForwarder>(),
            { ImplementationInstance: IVaultProxier instance } => _ => instance,
            { ImplementationFactory: { } factory } => sp => (IVaultProxier)factory(sp),
            { ImplementationType: { } type } => sp => (IVaultProxier)ActivatorUtilities.CreateInstance(sp, type),
            _ => throw new InvalidOperationException("Unsupported IVaultProxier registration"),
        };
        if (existing is not null)
        {
            services.Remove(existing);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddGatehouseMetrics();
        services.AddSingleton(sp =>
        {
            var time = sp.GetRequiredService<TimeProvider>();
            var loggers = sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            var metrics = sp.GetRequiredService<GatehouseMetrics>();
            var index = new CacheIndex(cache.MaxEntries ?? Defaults.CacheMaxEntries, cache.MaxBytes ?? Defaults.CacheMaxBytes);
            IRenewalSender sender = renewalSender ?? CreateSender(sp, config);
            var store = cache.Shared is null ? null : sp.GetService<SharedStore>();
            SharedRenewalSender? sharedSender = null;
            if (store is not null)
            {
                // Shared cache: each shared lease is renewed by one replica per period.
                sender = sharedSender = new SharedRenewalSender(sender, store, time);
            }

            var renewer = new Renewer(time, sender, index, metrics, loggers.CreateLogger<Renewer>());
            var leaseCache = new LeaseCache(
                inner(sp), index, renewer, time, metrics, loggers.CreateLogger<LeaseCache>(), sp.GetService<TokenStore>(),
                storeAnswers: !cache.DisableCachingDynamicSecrets);
            if (store is not null)
            {
                leaseCache.Shared = new SharedEntries(store, leaseCache, time, loggers.CreateLogger<SharedEntries>());
                sharedSender!.Entries = leaseCache.Shared;
            }

            return leaseCache;
        });
        if (cache.CacheStaticSecrets)
        {
            // Outermost: Static → LeaseCache → forwarder. The static cache keeps its entries in the lease cache's index.
            services.AddSingleton(sp =>
            {
                var (invoker, address) = UpstreamOf(sp, config);
                var leaseCache = sp.GetRequiredService<LeaseCache>();
                var staticCache = new StaticSecretCache(
                    leaseCache,
                    leaseCache,
                    new VaultClient(invoker, address, @namespace: null, sp.GetRequiredService<TimeProvider>(), requestTimeout: VaultRenewalSender.Timeout),
                    new StaticCacheOptions(
                        cache.StaticSecretTokenCapabilityRefreshInterval ?? Defaults.StaticSecretCapabilityRefreshInterval,
                        cache.StaticSecretTokenCapabilityRefreshBehavior == "optimistic",
                        cache.StaticSecretRefreshInterval ?? Defaults.StaticSecretRefreshInterval),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<GatehouseMetrics>(),
                    (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<StaticSecretCache>(),
                    sp.GetService<TokenStore>());
                if (cache.Shared is not null && sp.GetService<SharedStore>() is { } store && leaseCache.Shared is not null)
                {
                    // Shared cache: static secrets and their grants are the fleet's too. A record nobody revalidates
                    // leaves Redis after the longer of the capability refresh interval and three refresh intervals.
                    var options = staticCache.Options;
                    var lifetime = options.CapabilityRefresh > options.RefreshInterval * 3 ? options.CapabilityRefresh : options.RefreshInterval * 3;
                    staticCache.Shared = new SharedStaticSecrets(
                        store, staticCache, leaseCache.Shared, lifetime, sp.GetRequiredService<TimeProvider>(),
                        (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<SharedStaticSecrets>());
                }

                return staticCache;
            });
            services.AddSingleton<IVaultProxier>(sp => sp.GetRequiredService<StaticSecretCache>());
            services.AddSingleton<IKvChangeListener>(sp => sp.GetRequiredService<StaticSecretCache>());
            services.AddSingleton<IHostedService>(sp => new StaticSecretRefresher(sp.GetRequiredService<StaticSecretCache>(), sp.GetRequiredService<TimeProvider>()));
            services.AddKvEventSubscriber(config);
        }
        else
        {
            services.AddSingleton<IVaultProxier>(sp => sp.GetRequiredService<LeaseCache>());
        }

        services.AddSingleton<IStoredAnswers>(sp => sp.GetRequiredService<LeaseCache>());
        services.AddSingleton(sp => new CacheClearEndpoint(sp.GetRequiredService<LeaseCache>(), sp.GetService<TokenStore>()));
        if (cache.Persist is { } persist)
        {
            // First of all hosted services: the restore must be done before auto-auth starts (it may adopt the
            // preloaded token) and before the listeners serve.
            services.AddSingleton(sp => new CachePersistence(
                sp.GetRequiredService<LeaseCache>(),
                persist,
                sp.GetRequiredService<TimeProvider>(),
                (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<CachePersistence>(),
                sp.GetService<TokenStore>()));
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<CachePersistence>()));
        }

        return services;
    }

    private static VaultRenewalSender CreateSender(IServiceProvider services, GatehouseConfig config)
    {
        var (invoker, address) = UpstreamOf(services, config);
        return new VaultRenewalSender(new VaultClient(invoker, address, @namespace: null, services.GetRequiredService<TimeProvider>(), requestTimeout: VaultRenewalSender.Timeout));
    }

    /// <summary>The proxy's own connection pool to Vault when the API proxy is registered, else one from the vault stanza.</summary>
    private static (HttpMessageInvoker Invoker, Uri Address) UpstreamOf(IServiceProvider services, GatehouseConfig config) =>
        services.GetService<VaultUpstream>() is { } upstream
            ? (upstream.Invoker, new Uri(upstream.Address))
            : (new HttpMessageInvoker(UpstreamHandlerFactory.Create(config.Vault, disableKeepAlives: false, disableIdleConnections: false)),
                new Uri(config.Vault.EffectiveAddress));
}
