using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Gatehouse.Cache.Persistence;
using Gatehouse.Configuration;
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
            var sender = renewalSender ?? CreateSender(sp, config);
            var renewer = new Renewer(time, sender, index, metrics, loggers.CreateLogger<Renewer>());
            var leaseCache = new LeaseCache(inner(sp), index, renewer, time, metrics, loggers.CreateLogger<LeaseCache>(), sp.GetService<TokenStore>());
            return leaseCache;
        });
        services.AddSingleton<IVaultProxier>(sp => sp.GetRequiredService<LeaseCache>());
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
        var time = services.GetRequiredService<TimeProvider>();
        var (invoker, address) = services.GetService<VaultUpstream>() is { } upstream
            ? (upstream.Invoker, new Uri(upstream.Address))
            : (new HttpMessageInvoker(UpstreamHandlerFactory.Create(config.Vault, disableKeepAlives: false, disableIdleConnections: false)),
                new Uri(config.Vault.EffectiveAddress));
        return new VaultRenewalSender(new VaultClient(invoker, address, @namespace: null, time, requestTimeout: VaultRenewalSender.Timeout));
    }
}
