namespace Gatehouse.Listeners;

/// <summary>A listener cannot start (bad address, unreadable certificate, socket permissions). Startup stops.</summary>
internal sealed class ListenerStartupException : Exception
{
    public ListenerStartupException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
