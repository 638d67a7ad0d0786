using System.Net;
using System.Threading.Channels;
using Gatehouse.ApiProxy;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// A sealed Vault (or one with no active node) answers 503. Retrying that for the whole 60 s budget outlasts most
/// clients' timeouts; it is retried for a few seconds (vault.retry.unavailable_budget, 5 s by default), then Vault's own
/// answer goes to the client. The clock is fake: each retry wait is ended by advancing it.
/// </summary>
public sealed class SealedVaultTests
{
    /// <summary>A safety net so a stuck request fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SealedVault_Its503IsRetriedForTheUnavailableBudgetOnly_ThenVaultsOwnAnswerComesBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time });
        vault.Faults.Seal();
        await using var proxy = await ProxyHarness.StartAsync(vault.Address.ToString().TrimEnd('/'), time: time);

        var (response, waited) = await SendDrivingTheClockAsync(proxy, time, "/v1/secret/data/app");
        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("""{"errors":["error performing token check: Vault is sealed"]}""", (await response.Content.ReadAsStringAsync()).Trim());
        }

        // Jitter is 0: waits of 0.25, 0.5, 1 and 2 s (3.75 s); the next (4 s) would end past 5 s, so none starts.
        Assert.Equal([0.25, 0.5, 1, 2], waited.Select(w => w.TotalSeconds));
        Assert.Equal(5, vault.Faults.CountRequests("GET", "/v1/secret/data/app"));
    }

    /// <summary>
    /// Sends a GET with the root token and, until its answer arrives, ends each retry wait the forwarder enters by
    /// advancing the fake clock by exactly that wait. Returns the answer and the waits.
    /// </summary>
    private static async Task<(HttpResponseMessage Response, List<TimeSpan> Waits)> SendDrivingTheClockAsync(
        ProxyHarness proxy, FakeTimeProvider time, string path)
    {
        var waits = Channel.CreateUnbounded<TimeSpan>();
        var forwarder = proxy.Host.Services.GetRequiredService<VaultForwarder>();
        void OnWait(TimeSpan delay) => waits.Writer.TryWrite(delay);
        forwarder.RetryWaiting += OnWait;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Vault-Token", "root");
            var sending = proxy.Client.SendAsync(request);
            var seen = new List<TimeSpan>();
            while (true)
            {
                var next = waits.Reader.ReadAsync().AsTask();
                if (await Task.WhenAny(next, sending).WaitAsync(Hang) == sending)
                {
                    return (await sending, seen);
                }

                var delay = await next;
                seen.Add(delay);
                time.Advance(delay);
            }
        }
        finally
        {
            forwarder.RetryWaiting -= OnWait;
        }
    }
}
