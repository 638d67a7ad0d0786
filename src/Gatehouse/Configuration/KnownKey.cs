namespace Gatehouse.Configuration;

/// <summary>
/// A key the binder knows in one block: it reads it, accepts and ignores it, or refuses it with a message. Collected
/// by <see cref="ConfigBinder.KnownKeys"/> so that a test can hold the configuration reference to the code.
/// </summary>
/// <param name="Block">The block's path as messages show it, e.g. <c>listener "tcp"</c>; empty at the top level.</param>
internal sealed record KnownKey(string Block, string Key, KnownKey.Use How)
{
    public enum Use
    {
        /// <summary>Bound to the configuration.</summary>
        Read,

        /// <summary>Accepted and ignored, as Vault Agent/Proxy do.</summary>
        Ignored,

        /// <summary>Reported as an error: a Vault feature Gatehouse does not have.</summary>
        Refused,
    }
}
