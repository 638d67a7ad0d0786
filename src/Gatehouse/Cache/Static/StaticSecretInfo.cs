namespace Gatehouse.Cache.Static;

/// <summary>
/// What one static-secret entry holds: which KV secret (namespace, mount, path), which read of it (the API path and,
/// for KV v2, a pinned <c>?version=</c>), and what that read said about the version (KV v2), which revalidation
/// compares with Vault's metadata.
/// </summary>
/// <param name="Namespace">The namespace, <c>""</c> for the root one, otherwise with one trailing slash (<c>ns1/</c>).</param>
/// <param name="MountPath">The KV mount, with its trailing slash (<c>secret/</c>).</param>
/// <param name="KvVersion">1 or 2.</param>
/// <param name="SecretPath">The secret's path inside the mount (<c>app/db</c>).</param>
/// <param name="PinnedVersion">The <c>version</c> query of a KV v2 read, or null for the current version.</param>
internal sealed record StaticSecretInfo(string Namespace, string MountPath, int KvVersion, string SecretPath, int? PinnedVersion)
{
    /// <summary>The path a read is sent to, under <c>/v1/</c> in the namespace: <c>secret/data/app</c> (v2), <c>kv/app</c> (v1).</summary>
    public string ReadPath { get; } = KvVersion == 2 ? $"{MountPath}data/{SecretPath}" : MountPath + SecretPath;

    /// <summary>One secret whatever version was read: the index groups entries by it, and writes evict by it.</summary>
    public string SecretId { get; } = SecretIdOf(Namespace, MountPath, SecretPath);

    /// <summary>KV v2: the version the stored answer holds (<c>data.metadata.version</c>); 0 for KV v1.</summary>
    public int Version { get; init; }

    /// <summary>KV v2: the stored version's <c>deletion_time</c> ("" when not deleted).</summary>
    public string DeletionTime { get; init; } = "";

    /// <summary>KV v2: whether the stored version was destroyed.</summary>
    public bool Destroyed { get; init; }

    /// <summary>KV v2: the <c>custom_metadata</c> object the read carried (raw JSON), or null; metadata writes change it.</summary>
    public string? CustomMetadata { get; init; }

    public static string SecretIdOf(string @namespace, string mountPath, string secretPath) => $"{@namespace}\n{mountPath}\n{secretPath}";

    /// <summary>The prefix of every <see cref="SecretId"/> in a mount (or, with <paramref name="mountPath"/> "", a namespace).</summary>
    public static string MountPrefix(string @namespace, string mountPath) => mountPath.Length == 0 ? $"{@namespace}\n" : $"{@namespace}\n{mountPath}\n";

    /// <summary>The query the read carries (<c>version=3</c>), or null.</summary>
    public string? Query => PinnedVersion is { } v ? $"version={v}" : null;
}
