namespace Gatehouse.Cache.Static;

/// <summary>
/// Told by <c>KvEventSubscriber</c> what Vault's event stream says about KV secrets, so that the static-secret cache
/// refreshes a changed secret at once instead of at its next revalidation.
/// </summary>
internal interface IKvChangeListener
{
    /// <summary>
    /// A KV secret changed in Vault. <paramref name="namespacePath"/> is the namespace the event names ("" for the
    /// root namespace, otherwise with a trailing slash: <c>ns1/</c>); <paramref name="path"/> is the API path under
    /// <c>/v1/</c> relative to that namespace, as the event's <c>metadata.path</c> gives it (<c>secret/data/app</c>,
    /// <c>kv1/app</c>).
    /// </summary>
    void KvChanged(string namespacePath, string path);

    /// <summary>
    /// The stream came up (true) or was lost (false). While it is down, changes made in Vault are seen only by
    /// revalidation; when it comes back, events missed meanwhile are gone, so everything cached may be stale.
    /// </summary>
    void StreamStateChanged(bool up);
}
