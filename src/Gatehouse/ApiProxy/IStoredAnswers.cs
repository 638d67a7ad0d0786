namespace Gatehouse.ApiProxy;

/// <summary>
/// What a decorator of the chain (the lease cache) can answer without Vault. The request handler asks it before any
/// request is sent, when a request must not go upstream as it is: with the auto-auth token restored from the persistent
/// cache that Vault has not confirmed yet. Registered only when such a decorator is configured.
/// </summary>
internal interface IStoredAnswers
{
    /// <summary>
    /// The stored answer for <paramref name="request"/> (marking it <see cref="ProxyRequest.ServedFromCache"/>), or null.
    /// Never sends anything upstream. It may buffer the request body, which later sending then replays.
    /// </summary>
    ValueTask<ProxyResult?> TryAnswerAsync(ProxyRequest request, CancellationToken cancellationToken);
}
