using Gatehouse.AutoAuth;
using Gatehouse.Cache.Persistence;
using Gatehouse.Hosting.Logging;
using Gatehouse.Listeners;
using Gatehouse.Sinks;
using Gatehouse.Vault;

namespace Gatehouse.Hosting;

/// <summary>
/// The one line a person reads on stderr when start-up fails: what failed, in Vault's words where Vault has them,
/// and why. What the configuration tells is the validator's and never gets here; these are what only start-up can
/// find (an address, a port, a directory, a file's contents). Any other exception is a bug, and it too gets one line
/// (its type and message) instead of a stack trace; the details are in the debug log.
/// </summary>
internal static class StartupFailure
{
    public static string Describe(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        ListenerStartupException e => $"Error starting listener: {e.Message}",
        AutoAuthConfigException e => $"Error creating auth method: {e.Message}",
        SinkStartupException e => e.Message, // "error creating file sink: …", as Vault prints it
        CachePersistException e => $"Error restoring the persistent cache: {e.Message}",
        Shared.SharedStoreException e => $"Error opening the shared store: {e.Message}",
        LogFileException e => $"Error opening {e.Message}",
        VaultTlsFileException e => $"Error creating the Vault client: {e.Message}",
        _ => $"Error starting Gatehouse: {exception.GetType().Name}: {exception.Message} (the debug log, -log-level=debug, has the details)",
    };
}
