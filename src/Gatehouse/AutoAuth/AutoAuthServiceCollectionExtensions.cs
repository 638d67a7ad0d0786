using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wires auto-auth into the host.</summary>
internal static class AutoAuthServiceCollectionExtensions
{
    /// <summary>The key of the auto-auth <see cref="VaultClient"/> (the sinks wrap with it too).</summary>
    public const string ClientKey = "auto-auth";

    /// <summary>
    /// Registers <see cref="TokenStore"/>, <see cref="AutoAuthExit"/> and, when the config has an auto_auth block,
    /// the method, its Vault client and the <see cref="AuthHandler"/> loop hosted by a background service. Building
    /// the method validates its keys and throws <see cref="AutoAuthConfigException"/> with a clear message when the
    /// loop is resolved (at host start).
    /// </summary>
    public static IServiceCollection AddAutoAuth(this IServiceCollection services, GatehouseConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddGatehouseMetrics();
        services.TryAddSingleton<TokenStore>();
        services.TryAddSingleton<AutoAuthExit>();
        if (config.AutoAuth is not { } autoAuth)
        {
            return services;
        }

        var method = autoAuth.Method;
        services.TryAddKeyedSingleton(ClientKey, (sp, _) =>
            VaultClient.Create(config, method.Namespace, sp.GetRequiredService<TimeProvider>(), sp.GetService<VaultReachability>()));
        services.TryAddSingleton(sp => AuthMethodFactory.Create(
            config, method, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<AutoAuthEnvironment>()?.Get, sp.GetService<Gatehouse.AutoAuth.Methods.AzureIdentityTransport>()));
        services.TryAddSingleton(sp => new AuthHandler(
            sp.GetRequiredService<IAuthMethod>(),
            sp.GetRequiredKeyedService<VaultClient>(ClientKey),
            sp.GetRequiredService<TokenStore>(),
            sp.GetRequiredService<GatehouseMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<AuthHandler>>(),
            new AuthHandlerOptions
            {
                MinBackoff = method.EffectiveMinBackoff,
                MaxBackoff = method.EffectiveMaxBackoff,
                ExitOnError = method.ExitOnError,
                WrapTtl = method.WrapTtl,
                ReauthOnNewCredentials = autoAuth.EnableReauthOnNewCredentials,
            }));
        if (config.Cache?.Shared is null)
        {
            services.AddSingleton<IHostedService, AutoAuthService>();
            return services;
        }

        // cache { shared "redis" }: one identity for the fleet (AddShared registers the store).
        services.TryAddSingleton(new FleetOptions());
        services.TryAddSingleton(sp => new FleetAuthService(
            sp.GetRequiredService<AuthHandler>(),
            sp.GetRequiredService<AutoAuthExit>(),
            sp.GetRequiredService<TokenStore>(),
            sp.GetRequiredService<Gatehouse.Shared.SharedStore>(),
            sp.GetRequiredKeyedService<VaultClient>(ClientKey),
            method,
            sp.GetRequiredService<FleetOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<FleetAuthService>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<FleetAuthService>());
        return services;
    }
}

/// <summary>
/// The environment auth methods read (gcp's <c>GCE_METADATA_HOST</c> and credentials, azure's <c>AZURE_*</c>, aws's region
/// and metadata-service overrides; the AWS SDK's credential chain reads the process environment itself); the process
/// environment unless a host registers
/// another (tests do, so that parallel hosts do not share one process variable).
/// </summary>
internal sealed record AutoAuthEnvironment(Func<string, string?> Get);
