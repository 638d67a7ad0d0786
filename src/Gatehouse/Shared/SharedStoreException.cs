namespace Gatehouse.Shared;

/// <summary>A shared-store problem that start-up reports as one line (the key material cannot be read, a TLS file is bad).</summary>
internal sealed class SharedStoreException(string message, Exception? inner = null) : Exception(message, inner);
