using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The request-shaping step that chooses the token a request carries upstream (<c>api_proxy.use_auto_auth_token</c>).
/// It reads the auto-auth token from <see cref="TokenStore"/>'s snapshot, with no lock and no call into auth; only
/// before the first login does it wait, for a bounded time, instead of sending a token-less request.
/// </summary>
internal sealed class TokenSelector
{
    private readonly AutoAuthTokenMode _mode;
    private readonly TokenStore _store;
    private readonly TimeSpan _firstTokenWait;
    private readonly TimeProvider _time;

    public TokenSelector(AutoAuthTokenMode mode, TokenStore store, TimeSpan firstTokenWait, TimeProvider time)
    {
        _mode = mode;
        _store = store;
        _firstTokenWait = firstTokenWait;
        _time = time;
    }

    public AutoAuthTokenMode Mode => _mode;

    /// <summary>
    /// True when <see cref="ApplyAsync"/> would give this request the auto-auth token: force, or true and the client
    /// sent no token of its own. Decided from the headers alone, before any wait for a token.
    /// </summary>
    public bool WillUseAutoAuthToken(ProxyRequest request) =>
        _mode == AutoAuthTokenMode.Force || (_mode == AutoAuthTokenMode.WhenMissing && ClientToken(request.Context.Request.Headers) is null);

    /// <summary>Sets the request's token header per the mode. Returns a failure (503) when no token arrived in time.</summary>
    public async ValueTask<ProxyFailure?> ApplyAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        var headers = request.Context.Request.Headers;
        var clientToken = ClientToken(headers);

        // 1. Off, or a client token that wins in "true" mode: untouched.
        if (_mode == AutoAuthTokenMode.Off || (_mode == AutoAuthTokenMode.WhenMissing && clientToken is not null))
        {
            request.Token = clientToken;
            return null;
        }

        // 2. The auto-auth token: the snapshot, or a bounded wait before the first login.
        var token = _store.Current ?? await _store.WaitAsync(_firstTokenWait, _time, cancellationToken).ConfigureAwait(false);
        if (token is null || token.Token.Length == 0)
        {
            return new ProxyFailure(
                ProxyFailureKind.TokenUnavailable,
                $"no auto-auth token is available yet: auto-auth has not logged in to Vault within {_firstTokenWait.TotalSeconds:0.#}s; " +
                "check Gatehouse's auto_auth logs, or send your own X-Vault-Token");
        }

        // 3. Force replaces whatever the client sent, in either header.
        if (_mode == AutoAuthTokenMode.Force && IsBearer(headers.Authorization))
        {
            headers.Remove(HeaderNames.Authorization);
        }

        headers[VaultHeaders.Token] = token.Token;
        request.Token = token.Token;
        request.AutoAuthToken = token;
        return null;
    }

    /// <summary>
    /// The auto-auth token restored from the persistent cache, when this request would carry the auto-auth token and
    /// Vault has confirmed none yet: for a cache lookup only, never to be sent upstream. Null otherwise, and once it
    /// has expired.
    /// </summary>
    public AutoAuthToken? RestoredFor(ProxyRequest request)
    {
        if (_mode == AutoAuthTokenMode.Off || _store.Current is not null || _store.Restored is not { } restored)
        {
            return null;
        }

        if (_mode == AutoAuthTokenMode.WhenMissing && ClientToken(request.Context.Request.Headers) is not null)
        {
            return null;
        }

        return restored.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? null : restored;
    }

    /// <summary>The client's own token: X-Vault-Token, else an Authorization: Bearer value (Vault accepts both).</summary>
    public static string? ClientToken(IHeaderDictionary headers)
    {
        var vaultToken = headers[VaultHeaders.Token];
        if (vaultToken.Count > 0 && !string.IsNullOrEmpty(vaultToken[0]))
        {
            return vaultToken[0];
        }

        var authorization = headers.Authorization;
        return IsBearer(authorization) ? authorization[0]!["Bearer ".Length..].Trim() : null;
    }

    private static bool IsBearer(Microsoft.Extensions.Primitives.StringValues authorization) =>
        authorization.Count > 0 && authorization[0] is { Length: > 7 } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
}
