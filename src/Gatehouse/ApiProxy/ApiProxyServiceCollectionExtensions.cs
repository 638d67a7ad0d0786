using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

internal static class ApiProxyServiceCollectionExtensions
{
    /// <summary>
    /// The API proxy: token choice, consistency, the forwarder as the <see cref="IVaultProxier"/> (a cache registered
    /// later decorates it) and the request handler listeners call.
    /// </summary>
    public static IServiceCollection AddApiProxy(this IServiceCollection services, GatehouseConfig config, ApiProxyOptions? options = null)
    {
        options ??= new ApiProxyOptions();
        var apiProxy = config.ApiProxy ?? new ApiProxyConfig();

        services.AddHttpForwarder();

        // YARP logs every failed forward at Warning, the same failure VaultForwarder classifies and UpstreamFailureLog
        // reports once per interval: a second line per request, ~11,000 in a few seconds of outage. Its other lines are
        // per-request Information (with the full URL), which no level of ours shows. So the category is off.
        services.Configure<LoggerFilterOptions>(filters =>
            filters.Rules.Add(new LoggerFilterRule(null, "Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.None, null)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenStore>();
        services.AddSingleton(options);
        services.AddSingleton(_ => new VaultUpstream(config, options.UpstreamTimeout));

        // A 412 means "this node has not caught up"; when the user chose fail, the client must see it at once.
        var retry412 = !(apiProxy.EnforceConsistency == EnforceConsistency.Always && apiProxy.WhenInconsistent == WhenInconsistent.Fail);
        services.AddSingleton(new RetryPolicy(
            config.Vault.EffectiveNumRetries, options.RetryBudget, retry412, options.RetryJitter, config.Vault.EffectiveUnavailableRetryBudget));
        services.AddSingleton(new ConsistencyTracker(apiProxy.EnforceConsistency, apiProxy.WhenInconsistent));
        services.AddSingleton(sp => new TokenSelector(
            apiProxy.UseAutoAuthToken, sp.GetRequiredService<TokenStore>(), options.FirstTokenWait, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<UpstreamFailureLog>();
        services.AddSingleton(sp =>
        {
            var limiter = new UpstreamLimiter(apiProxy.EffectiveMaxUpstreamRequests, apiProxy.EffectiveUpstreamQueueTimeout, sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<GatehouseMetrics>().ObserveUpstream(() => limiter.Queued, () => limiter.Active);
            return limiter;
        });
        services.AddSingleton<VaultForwarder>();
        services.TryAddSingleton<IVaultProxier>(sp => sp.GetRequiredService<VaultForwarder>());
        services.AddSingleton<WrappingDiscarder>();
        services.AddSingleton(new AutoAuthPathRules(config));
        services.AddSingleton<ProxyHandler>();
        return services;
    }
}
