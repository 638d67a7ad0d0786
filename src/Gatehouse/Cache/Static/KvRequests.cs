using System.Globalization;

namespace Gatehouse.Cache.Static;

/// <summary>
/// Which KV secret a request reads or changes, given the mount it falls under. Every form Vault's KV engines accept
/// is named here once: v1 <c>&lt;mount&gt;&lt;path&gt;</c>; v2 <c>data/</c>, <c>delete/</c>, <c>undelete/</c>,
/// <c>destroy/</c>, <c>metadata/</c> (and <c>config</c>, which changes every secret's retention).
/// </summary>
internal static class KvRequests
{
    private static readonly string[] V2SecretVerbs = ["data/", "delete/", "undelete/", "destroy/", "metadata/"];

    /// <summary>
    /// The static secret a GET of <paramref name="apiPath"/> (under <c>/v1/</c>, in the namespace) reads, or null when it
    /// is not a cacheable read: KV v1 <c>&lt;mount&gt;&lt;path&gt;</c> without a query; KV v2
    /// <c>&lt;mount&gt;data/&lt;path&gt;</c> with no query or only <c>version=N</c> (0 is the current version, as in Vault).
    /// </summary>
    public static StaticSecretInfo? Read(string @namespace, KnownMount mount, string apiPath, string? query)
    {
        if (mount.Kind == MountKind.Other || apiPath.Length <= mount.Path.Length)
        {
            return null;
        }

        var rest = apiPath[mount.Path.Length..];
        if (mount.Kind == MountKind.KvV1)
        {
            return string.IsNullOrEmpty(query) ? new StaticSecretInfo(@namespace, mount.Path, 1, rest, null) : null;
        }

        if (!rest.StartsWith("data/", StringComparison.Ordinal) || rest.Length == "data/".Length)
        {
            return null;
        }

        int? pinned = null;
        if (!string.IsNullOrEmpty(query))
        {
            if (!query.StartsWith("version=", StringComparison.Ordinal)
                || !int.TryParse(query.AsSpan("version=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                return null;
            }

            pinned = version == 0 ? null : version;
        }

        return new StaticSecretInfo(@namespace, mount.Path, 2, rest["data/".Length..], pinned);
    }

    /// <summary>
    /// What a write (any method but GET) to <paramref name="apiPath"/> may change: one secret (its id), the whole mount
    /// (KV v2 <c>config</c>), or nothing cached (null).
    /// </summary>
    public static string? WriteTarget(string @namespace, KnownMount mount, string apiPath)
    {
        if (mount.Kind == MountKind.Other || !apiPath.StartsWith(mount.Path, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = apiPath[mount.Path.Length..];
        if (mount.Kind == MountKind.KvV1)
        {
            return rest.Length == 0 ? null : StaticSecretInfo.SecretIdOf(@namespace, mount.Path, rest);
        }

        if (rest == "config")
        {
            return StaticSecretInfo.MountPrefix(@namespace, mount.Path);
        }

        foreach (var verb in V2SecretVerbs)
        {
            if (rest.StartsWith(verb, StringComparison.Ordinal) && rest.Length > verb.Length)
            {
                return StaticSecretInfo.SecretIdOf(@namespace, mount.Path, rest[verb.Length..]);
            }
        }

        return null;
    }

    /// <summary>True for paths whose writes change the mount table (mount, unmount, tune, remount): forget what was learned.</summary>
    public static bool ChangesMounts(string apiPath) =>
        apiPath.StartsWith("sys/mounts/", StringComparison.Ordinal) || apiPath.StartsWith("sys/remount", StringComparison.Ordinal);

    /// <summary><c>X-Vault-Namespace</c> as the static cache keys it: <c>""</c> for root, otherwise <c>ns1/</c>.</summary>
    public static string NormalizeNamespace(string? header)
    {
        var trimmed = (header ?? "").Trim().Trim('/');
        return trimmed is "" or "root" ? "" : trimmed + "/";
    }
}
