namespace Gatehouse.Cache.Persistence;

/// <summary>
/// The persistent cache cannot be used. <see cref="AlwaysFatal"/> marks configuration mistakes (a missing or malformed
/// <c>key_file</c>/<c>key_env_var</c>): Gatehouse refuses to start whatever <c>exit_on_err</c> says. Other problems
/// (an unreadable service-account token, a store that does not decrypt) are fatal only with <c>exit_on_err = true</c>;
/// otherwise they are logged and Gatehouse starts with an empty cache. The host prints <see cref="Exception.Message"/>
/// and exits 1.
/// </summary>
internal sealed class CachePersistException : Exception
{
    public CachePersistException(string message, bool alwaysFatal = false, Exception? inner = null)
        : base(message, inner)
    {
        AlwaysFatal = alwaysFatal;
    }

    public CachePersistException()
    {
    }

    public CachePersistException(string message)
        : base(message)
    {
    }

    public CachePersistException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public bool AlwaysFatal { get; }
}
