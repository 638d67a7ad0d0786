using System.Text.Json;
using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Cache;

/// <summary>
/// <c>/agent/v1/cache-clear</c> and <c>/proxy/v1/cache-clear</c>: POST or PUT <c>{"type","value","namespace"}</c>
/// with type <c>request_path</c> (a prefix of the stored path, <c>/v1</c> included, in exactly that namespace,
/// <c>root/</c> by default), <c>token</c>, <c>token_accessor</c>, <c>lease</c> or <c>all</c>. 200 with an empty body
/// on success, even when nothing matched; other methods are a 200 no-op, as in Vault. Errors carry Vault's
/// messages, but a missing value is a 400 (Vault answers 500 for the client's mistake).
/// </summary>
internal sealed class CacheClearEndpoint
{
    private readonly LeaseCache _cache;
    private readonly TokenStore? _tokens;

    public CacheClearEndpoint(LeaseCache cache, TokenStore? tokens = null)
    {
        _cache = cache;
        _tokens = tokens;
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) && !HttpMethods.IsPut(context.Request.Method))
        {
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var (status, error) = Clear(body.ToArray());
        if (error is not null)
        {
            await ProxyErrorWriter.WriteErrorAsync(context, status, error).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>Parses and applies one clear request. Returns the status and, for a failure, Vault's message.</summary>
    public (int Status, string? Error) Clear(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return (400, "failed to parse JSON input: empty JSON provided");
        }

        string? type, value, @namespace;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (400, $"failed to parse JSON input: json: cannot unmarshal {root.ValueKind.ToString().ToLowerInvariant()} into Go value of type cache.cacheClearRequest");
            }

            type = Field(root, "type");
            value = Field(root, "value");
            @namespace = Field(root, "namespace");
        }
        catch (JsonException exception)
        {
            return (400, $"failed to parse JSON input: {exception.Message}");
        }
        catch (InvalidOperationException exception)
        {
            return (400, $"failed to parse JSON input: {exception.Message}");
        }

        if (string.IsNullOrEmpty(type))
        {
            return (400, "failed to parse clear input: no type provided");
        }

        var index = _cache.Index;
        switch (type)
        {
            case "request_path":
                if (string.IsNullOrEmpty(value))
                {
                    return (400, "failed to clear cache: request path not provided");
                }

                index.EvictRequestPath(value, string.IsNullOrEmpty(@namespace) ? "root/" : @namespace, EvictionReason.Cleared);
                break;
            case "token":
                if (string.IsNullOrEmpty(value))
                {
                    return (400, "failed to clear cache: token not provided");
                }

                index.EvictToken(value, EvictionReason.Cleared);
                break;
            case "token_accessor":
                if (string.IsNullOrEmpty(value))
                {
                    return (400, "failed to clear cache: token accessor not provided");
                }

                index.EvictAccessor(value, EvictionReason.Cleared);
                break;
            case "lease":
                if (string.IsNullOrEmpty(value))
                {
                    return (400, "failed to clear cache: lease not provided");
                }

                index.EvictLease(value, EvictionReason.Cleared);
                break;
            case "all":
                // One message clears the fleet (and a new epoch retires what Redis holds): no message per entry.
                SharedEntries.Quietly(() => index.Clear(EvictionReason.Cleared));
                _cache.Store?.Clear();
                break;
            default:
                return (400, "failed to clear cache: invalid type provided");
        }

        // Shared cache: every replica clears the same (it applies the request to its own index).
        _cache.Shared?.Broadcast(
            "clear_" + type,
            type == "all" ? "" : value!,
            type == "request_path" ? (string.IsNullOrEmpty(@namespace) ? "root/" : @namespace) : null);

        // Unlike Vault, the current auto-auth token stays managed: clearing must not stop leases made with it
        // from being cached until the next re-authentication.
        if (_tokens?.Current is { } current)
        {
            _cache.RegisterAutoAuthToken(current);
        }

        return (200, null);
    }

    private static string? Field(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new InvalidOperationException($"json: cannot unmarshal {value.ValueKind.ToString().ToLowerInvariant()} into Go struct field cacheClearRequest.{name} of type string");
    }
}
