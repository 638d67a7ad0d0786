using System.Reflection;

namespace Gatehouse;

/// <summary>
/// Facts about the product itself. It lives in the root namespace so that every folder may read it without
/// depending on Hosting (see the dependency rule in ARCHITECTURE.md).
/// </summary>
internal static class ProductInfo
{
    /// <summary>The informational version without the source revision, e.g. <c>0.1.0</c>.</summary>
    public static string Version { get; } =
        typeof(ProductInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";
}
