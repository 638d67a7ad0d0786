namespace Gatehouse.Hosting;

/// <summary>Process exit codes, as Vault Agent/Proxy use them.</summary>
internal static class ExitCodes
{
    /// <summary>Normal stop, quit endpoint, exit_after_auth, a valid config.</summary>
    public const int Success = 0;

    /// <summary>Usage, configuration, listener or sink errors, and run-time failures.</summary>
    public const int Error = 1;
}
