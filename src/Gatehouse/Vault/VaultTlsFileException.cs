namespace Gatehouse.Vault;

/// <summary>
/// A TLS file of the <c>vault</c> stanza (ca_cert, ca_path, client_cert, client_key) cannot be read or is not PEM.
/// The files are read when the upstream clients are built at start-up, as in Vault; start-up stops.
/// </summary>
internal sealed class VaultTlsFileException(string message, Exception inner) : Exception(message, inner);
