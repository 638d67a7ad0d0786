using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Cache;

/// <summary>
/// Renews over the shared upstream connection pool. Unlike Vault, the renewal carries the entry's
/// <c>X-Vault-Namespace</c>, so leases and tokens made in a namespace renew there too.
/// </summary>
internal sealed class HttpRenewalSender : IRenewalSender
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _address;

    public HttpRenewalSender(HttpMessageInvoker invoker, Uri address)
    {
        _invoker = invoker;
        _address = address;
    }

    public async ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        var isLease = entry.Kind == CacheEntryKind.Lease;
        var path = isLease ? "v1/sys/leases/renew" : "v1/auth/token/renew-self";
        var body = isLease
            ? JsonSerializer.Serialize(new Dictionary<string, object> { ["lease_id"] = entry.Lease!, ["increment"] = 0 })
            : "{\"increment\":0}";
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_address, path))
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("X-Vault-Token", isLease ? entry.LeaseToken : entry.Token);
        request.Headers.TryAddWithoutValidation("X-Vault-Request", "true");
        if (entry.Namespace != "root/")
        {
            request.Headers.TryAddWithoutValidation("X-Vault-Namespace", entry.Namespace);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            using var response = await _invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 400 and < 500)
            {
                return new RenewalResult(RenewalOutcome.Refused, Error: $"Vault answered {status}");
            }

            if (status >= 300)
            {
                return new RenewalResult(RenewalOutcome.Failed, Error: $"Vault answered {status}");
            }

            var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            return new RenewalResult(RenewalOutcome.Renewed, TtlFrom(bytes, isLease));
        }
        catch (HttpRequestException exception)
        {
            return new RenewalResult(RenewalOutcome.Failed, Error: exception.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RenewalResult(RenewalOutcome.Failed, Error: "timed out");
        }
        catch (JsonException exception)
        {
            return new RenewalResult(RenewalOutcome.Failed, Error: exception.Message);
        }
    }

    private static long TtlFrom(byte[] body, bool isLease)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var holder = isLease ? root : root.GetProperty("auth");
        return holder.TryGetProperty("lease_duration", out var ttl) && ttl.TryGetInt64(out var seconds) ? seconds : 0;
    }
}
