using Gatehouse.Vault;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.ApiProxy;

/// <summary>
/// Uses up a wrapping token that the guard refused to hand out (it would unwrap to the auto-auth token): unwrapping it
/// once, and dropping the answer, is the only way to make sure nobody else ever can. Sent over the proxying client to
/// the namespace the request named.
/// </summary>
internal sealed partial class WrappingDiscarder
{
    private readonly VaultUpstream _upstream;
    private readonly ILogger<WrappingDiscarder> _logger;

    public WrappingDiscarder(VaultUpstream upstream, ILogger<WrappingDiscarder> logger)
    {
        _upstream = upstream;
        _logger = logger;
    }

    public async Task DiscardAsync(string? wrappingToken, IHeaderDictionary requestHeaders, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(wrappingToken))
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _upstream.DestinationPrefix + "/v1/sys/wrapping/unwrap");
        request.Headers.TryAddWithoutValidation(VaultHeaders.Token, wrappingToken);
        if (requestHeaders[VaultHeaders.Namespace] is { Count: > 0 } ns)
        {
            request.Headers.TryAddWithoutValidation(VaultHeaders.Namespace, (IEnumerable<string?>)ns);
        }

        try
        {
            using var response = await _upstream.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            Log.Discarded(_logger, (int)response.StatusCode);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            // The wrapping token was never sent to anyone; it expires with its TTL.
            Log.DiscardFailed(_logger, exception.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.WrappingDiscarderDiscarded, LogLevel.Warning, "Refused to hand out a wrapping token that holds the auto-auth token; used it up (Vault answered {Status})")]
        public static partial void Discarded(ILogger logger, int status);

        [LoggerMessage(LogEvents.WrappingDiscarderDiscardFailed, LogLevel.Warning, "Refused to hand out a wrapping token that holds the auto-auth token; could not use it up ({Reason}); it expires with its TTL")]
        public static partial void DiscardFailed(ILogger logger, string reason);
    }
}
