using System.Net;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// Whether this is a Google Compute Engine machine, as Go's cloud.google.com/go/compute/metadata <c>OnGCE</c> decides
/// when <c>GCE_METADATA_HOST</c> is unset (the caller checks that variable): an HTTP GET to 169.254.169.254 (answered
/// with <c>Metadata-Flavor: Google</c>) raced with a DNS lookup of <c>metadata.google.internal.</c> (resolving to
/// 169.254.169.254). Without a hint the first answer decides; when the DMI product name says Google, a "no" waits up
/// to 5 more seconds for the other probe to say yes. Decided once per instance (Go caches it per process); every
/// wait is on the injected clock, and the network parts are injectable so that tests never touch the network.
/// </summary>
internal sealed class GceProbe
{
    public const string MetadataIp = "169.254.169.254";

    /// <summary>Go's metadata client timeout for the ping; and the wait for a second opinion when the BIOS says Google.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpMessageInvoker _http;
    private readonly TimeProvider _time;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _lookUp;
    private readonly Func<string?> _productName;
    private readonly Lazy<Task<bool>> _decided;

    /// <param name="lookUp">DNS (default <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</param>
    /// <param name="productName">The DMI product name, or null (default: <c>/sys/class/dmi/id/product_name</c>).</param>
    public GceProbe(HttpMessageInvoker http, TimeProvider time, Func<string, CancellationToken, Task<IPAddress[]>>? lookUp = null,
        Func<string?>? productName = null)
    {
        _http = http;
        _time = time;
        _lookUp = lookUp ?? Dns.GetHostAddressesAsync;
        _productName = productName ?? ReadProductName;
        _decided = new Lazy<Task<bool>>(DecideAsync);
    }

    public Task<bool> IsOnComputeEngineAsync() => _decided.Value;

    private async Task<bool> DecideAsync()
    {
        using var stop = new CancellationTokenSource();
        var ping = PingAsync(stop.Token);
        var dns = LookUpAsync(stop.Token);
        var first = await Task.WhenAny(ping, dns).ConfigureAwait(false);
        try
        {
            if (await first.ConfigureAwait(false) || !SystemInfoSuggestsGce())
            {
                return await first.ConfigureAwait(false);
            }

            // The BIOS says Google: give the other probe a chance to contradict the "no".
            var other = first == ping ? dns : ping;
            var waited = await Task.WhenAny(other, Task.Delay(ProbeTimeout, _time, stop.Token)).ConfigureAwait(false);
            return waited == other && await other.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(ProbeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{MetadataIp}");
        try
        {
            using var response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
            return response.Headers.TryGetValues("Metadata-Flavor", out var flavor) && flavor.FirstOrDefault() == "Google";
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> LookUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await _lookUp("metadata.google.internal.", cancellationToken).ConfigureAwait(false);
            return addresses.Any(a => a.ToString() == MetadataIp);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Go's <c>systemInfoSuggestsGCE</c> on Linux.</summary>
    private bool SystemInfoSuggestsGce() => _productName()?.Trim() is "Google" or "Google Compute Engine";

    private static string? ReadProductName()
    {
        try
        {
            return File.ReadAllText("/sys/class/dmi/id/product_name");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
