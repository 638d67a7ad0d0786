namespace Gatehouse.ApiProxy;

/// <summary>
/// The one seam of the request path: "send this request to Vault, give me the response". <see cref="VaultForwarder"/>
/// implements it by streaming both ways; the lease cache decorates it. A decorator that must see the whole exchange
/// buffers the request body (<see cref="ProxyRequest.BufferBodyAsync"/>) and sets
/// <see cref="ProxyRequest.BufferJsonUpTo"/> before calling the inner proxier, which then returns
/// <see cref="ProxyResult.Buffered"/> for a JSON answer within that size instead of writing to the client.
/// </summary>
internal interface IVaultProxier
{
    /// <summary>
    /// Sends the request upstream. Expected failures (unreachable Vault, timeouts, a client that went away) come back
    /// as <see cref="ProxyResult.Failed"/>, never as exceptions.
    /// </summary>
    ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken);
}
