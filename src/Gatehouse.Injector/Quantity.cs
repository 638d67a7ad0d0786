using System.Text.RegularExpressions;

namespace Gatehouse.Injector;

/// <summary>Kubernetes' resource quantity syntax (<c>100m</c>, <c>64Mi</c>, <c>1.5</c>, <c>1e3</c>), as the API server accepts it.</summary>
internal static partial class Quantity
{
    public static bool IsValid(string text) => Pattern().IsMatch(text);

    [GeneratedRegex(@"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")]
    private static partial Regex Pattern();
}

/// <summary>Kubernetes object names (RFC 1123 subdomains), for the Secret names annotations give.</summary>
internal static partial class KubernetesName
{
    public static bool IsValid(string text) => text.Length <= 253 && Pattern().IsMatch(text);

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Pattern();
}
