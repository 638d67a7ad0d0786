namespace Gatehouse.Hosting.Logging;

/// <summary>
/// The hclog module each log category writes under, so that a line reads as Vault's does: Vault Proxy names its root
/// logger <c>proxy</c> and Vault Agent <c>agent</c>, and each part a child of it (<c>proxy.auth.handler</c>,
/// <c>agent.sink.file</c>, <c>proxy.cache.leasecache</c>; command/proxy.go and command/agent.go). This table is the
/// one place a .NET category becomes a module; <c>LogModulesTests</c> fails when a category Gatehouse logs from has no
/// row here.
/// </summary>
internal static class LogModules
{
    /// <summary>Gatehouse's categories, by full type name, and the module under the root each writes as ("" is the root).</summary>
    public static readonly IReadOnlyDictionary<string, string> Categories = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // Vault: c.logger.Named("auth.handler"), Named("auth." + method type)
        ["Gatehouse.AutoAuth.AuthHandler"] = "auth.handler",
        ["Gatehouse.AutoAuth.Methods.AwsMethod"] = "auth.aws",
        ["Gatehouse.AutoAuth.Methods.AlicloudMethod"] = "auth.alicloud",
        ["Gatehouse.AutoAuth.Methods.AppRoleMethod"] = "auth.approle",
        ["Gatehouse.AutoAuth.Methods.JwtMethod"] = "auth.jwt",
        ["Gatehouse.AutoAuth.Methods.LdapMethod"] = "auth.ldap",
        ["Gatehouse.AutoAuth.Methods.OciMethod"] = "auth.oci",
        ["Gatehouse.AutoAuth.Methods.TokenFileMethod"] = "auth.token_file",

        // Vault: Named("sink.server") runs the sinks, Named("sink.file") is each file sink; "sinks finished, exiting"
        // (exit_after_auth) is the root logger's.
        ["Gatehouse.Sinks.SinkServer"] = "sink.server",
        ["Gatehouse.Sinks.SinkService"] = "",
        ["Gatehouse.Sinks.SinkWriter"] = "sink.file",

        // Vault: Named("apiproxy") forwards every request.
        ["Gatehouse.ApiProxy.ProxyHandler"] = "apiproxy",
        ["Gatehouse.ApiProxy.VaultForwarder"] = "apiproxy",
        ["Gatehouse.ApiProxy.UpstreamFailureLog"] = "apiproxy",
        ["Gatehouse.ApiProxy.WrappingDiscarder"] = "apiproxy",

        // Vault: Named("cache"), and its child Named("leasecache") holds entries and renews them; persistence logs as "cache".
        ["Gatehouse.Cache.LeaseCache"] = "cache.leasecache",
        ["Gatehouse.Cache.Renewer"] = "cache.leasecache",
        ["Gatehouse.Cache.SharedEntries"] = "cache.shared",
        ["Gatehouse.Cache.Static.SharedStaticSecrets"] = "cache.shared",
        ["Gatehouse.Cache.Persistence.CachePersistence"] = "cache",

        // Vault Enterprise 1.16+ (not in OpenBao): static secrets are held by the lease cache, and the event stream is
        // followed by cacheLogger.Named("static.secret.cache.updater").
        ["Gatehouse.Cache.Static.StaticSecretCache"] = "cache.leasecache",
        ["Gatehouse.Cache.Static.KvEventSubscriber"] = "cache.static.secret.cache.updater",

        // Vault's go-metrics sinks report send failures through Go's standard logger, outside any module.
        ["Gatehouse.Telemetry.PushSink"] = "",

        // Ours: Vault has no shared store.
        ["Gatehouse.Shared.SharedStore"] = "cache.shared",
        ["Gatehouse.AutoAuth.FleetAuthService"] = "auth.fleet",

        // Vault logs the quit request, reloads and start and stop on the root logger.
        ["Gatehouse.Listeners.RequestDispatcher"] = "",
        ["Gatehouse.Hosting.ConfigReloader"] = "",
        ["Gatehouse.Hosting.GatehouseHost"] = "",
        ["Gatehouse.Hosting.MemoryTrimmer"] = "",

        // `gatehouse dev` only.
        ["Gatehouse.DevVault.DevVaultServer"] = "devvault",
    };

    /// <summary>Library categories, by prefix (held at warn unless trace; see <see cref="LogLevelSwitch"/>).</summary>
    private static readonly (string Prefix, string Module)[] Libraries =
    [
        ("Microsoft.AspNetCore.Server.Kestrel", "listener"),
        ("Yarp.", "apiproxy"),
        ("Microsoft.Hosting.Lifetime", ""),
        ("Microsoft.Extensions.Hosting", ""),
    ];

    /// <summary>
    /// The module for <paramref name="category"/> under <paramref name="root"/> (<c>proxy</c> or <c>agent</c>): the table's
    /// row, else a library prefix's, else <c>&lt;root&gt;.&lt;category&gt;</c> unchanged, so nothing is lost.
    /// </summary>
    public static string For(string category, string root)
    {
        if (Categories.TryGetValue(category, out var module))
        {
            return Join(root, module);
        }

        foreach (var (prefix, libraryModule) in Libraries)
        {
            if (category.StartsWith(prefix, StringComparison.Ordinal))
            {
                return Join(root, libraryModule);
            }
        }

        return Join(root, category);
    }

    private static string Join(string root, string module) =>
        module.Length == 0 ? root : root.Length == 0 ? module : $"{root}.{module}";
}
