using System.Diagnostics.Metrics;
using System.Net;
using Gatehouse.ApiProxy;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// More clients than Vault needs: at most <c>api_proxy.max_upstream_requests</c> proxied requests are with Vault at
/// once; the rest wait in one queue, oldest first; one that waits <c>upstream_queue_timeout</c> is answered 503 with
/// Retry-After and never sent. The upstream holds every request until the test lets it go, so "with Vault" and
/// "queued" are states the test sees, not timings.
/// </summary>
public sealed class OverloadTests
{
    /// <summary>A safety net so a stuck request fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PastMaxUpstreamRequests_TheRestWaitInTheQueue_AndVaultNeverSeesMoreThanTheBound()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var vault = new HeldVault();
        upstream.Handler = vault.HandleAsync;
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { MaxUpstreamRequests = 2 });
        var limiter = proxy.Host.Services.GetRequiredService<UpstreamLimiter>();
        var queued = new Counter();
        limiter.Waiting += queued.Add;

        var sends = Enumerable.Range(0, 6).Select(i => proxy.Client.GetAsync($"/v1/secret/data/s{i}")).ToList();

        // Bounded: two reach Vault and four queue. Unbounded, a third would reach Vault.
        await Task.WhenAny(Task.WhenAll(vault.Arrived.AtLeast(2), queued.AtLeast(4)), vault.Arrived.AtLeast(3)).WaitAsync(Hang);
        Assert.Equal(2, vault.Arrived.Value);
        Assert.Equal(4, limiter.Queued);
        Assert.Equal(2, limiter.Active);

        vault.ReleaseAll();
        foreach (var send in sends)
        {
            using var response = await send.WaitAsync(Hang);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(2, vault.Peak);
        Assert.Equal(6, vault.Arrived.Value);
    }

    [Fact]
    public async Task QueuedRequests_AreSentOldestFirst()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var vault = new HeldVault();
        upstream.Handler = vault.HandleAsync;
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { MaxUpstreamRequests = 1 });
        var limiter = proxy.Host.Services.GetRequiredService<UpstreamLimiter>();
        var queued = new Counter();
        limiter.Waiting += queued.Add;

        var sends = new List<Task<HttpResponseMessage>> { proxy.Client.GetAsync("/v1/secret/data/a") };
        await vault.Arrived.AtLeast(1).WaitAsync(Hang);
        foreach (var (name, position) in new[] { ("b", 1), ("c", 2), ("d", 3) })
        {
            sends.Add(proxy.Client.GetAsync($"/v1/secret/data/{name}"));
            await queued.AtLeast(position).WaitAsync(Hang);
        }

        for (var i = 1; i <= 4; i++)
        {
            await vault.Arrived.AtLeast(i).WaitAsync(Hang);
            vault.Release(vault.Order[i - 1]);
        }

        await Task.WhenAll(sends).WaitAsync(Hang);
        Assert.Equal(["/v1/secret/data/a", "/v1/secret/data/b", "/v1/secret/data/c", "/v1/secret/data/d"], vault.Order);
    }

    [Fact]
    public async Task ARequestThatWaitsPastTheQueueTimeout_Gets503WithRetryAfter_AndNeverReachesVault()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var console = new CapturingWriter();
        await using var upstream = await TestUpstream.StartAsync();
        var vault = new HeldVault();
        upstream.Handler = vault.HandleAsync;
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address, new ApiProxyConfig { MaxUpstreamRequests = 1, UpstreamQueueTimeout = TimeSpan.FromSeconds(5) },
            logConsole: console, time: time);
        var limiter = proxy.Host.Services.GetRequiredService<UpstreamLimiter>();
        var queued = new Counter();
        limiter.Waiting += queued.Add;
        using var shed = new MetricCollector<long>(proxy.Host.Services.GetRequiredService<IMeterFactory>(), "Gatehouse", "vault.gatehouse.upstream.shed");

        var first = proxy.Client.GetAsync("/v1/secret/data/first");
        await vault.Arrived.AtLeast(1).WaitAsync(Hang);
        var second = proxy.Client.GetAsync("/v1/secret/data/second");
        await queued.AtLeast(1).WaitAsync(Hang);

        time.Advance(TimeSpan.FromSeconds(5));

        using (var response = await second.WaitAsync(Hang))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("2", response.Headers.GetValues("Retry-After").Single());
            Assert.Equal(
                """{"errors":["too many requests waiting for Vault: this one waited 5s for one of the 1 upstream request slots (api_proxy.max_upstream_requests) and was not sent; retry after 2s"]}""",
                await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, shed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains("503 too many requests waiting for Vault: this one waited 5s", console.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, limiter.Queued);

        vault.ReleaseAll();
        using (var response = await first.WaitAsync(Hang))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(["/v1/secret/data/first"], vault.Order);
    }

    [Fact]
    public async Task AClientThatGoesAwayWhileQueued_LeavesTheQueue_AndIsNotShed()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var vault = new HeldVault();
        upstream.Handler = vault.HandleAsync;
        // A client's FIN is taken as "gone" at once here (no half-close grace), and the queue timeout never passes (fake clock).
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address, new ApiProxyConfig { MaxUpstreamRequests = 1 }, halfClosedGrace: TimeSpan.Zero,
            time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        var limiter = proxy.Host.Services.GetRequiredService<UpstreamLimiter>();
        var queued = new Counter();
        limiter.Waiting += queued.Add;
        var meters = proxy.Host.Services.GetRequiredService<IMeterFactory>();
        using var shed = new MetricCollector<long>(meters, "Gatehouse", "vault.gatehouse.upstream.shed");
        using var answered = new MetricCollector<long>(meters, "Gatehouse", "vault.gatehouse.proxy.requests");

        var first = proxy.Client.GetAsync("/v1/secret/data/first");
        await vault.Arrived.AtLeast(1).WaitAsync(Hang);
        using var gone = new CancellationTokenSource();
        var leaving = proxy.Client.GetAsync("/v1/secret/data/leaving", gone.Token);
        await queued.AtLeast(1).WaitAsync(Hang);

        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        await answered.WaitForMeasurementsAsync(1).WaitAsync(Hang); // Gatehouse finished with it
        Assert.Equal(0, limiter.Queued);

        var next = proxy.Client.GetAsync("/v1/secret/data/next");
        vault.Release("/v1/secret/data/first");
        await vault.Arrived.AtLeast(2).WaitAsync(Hang);
        vault.ReleaseAll();
        (await first.WaitAsync(Hang)).Dispose();
        (await next.WaitAsync(Hang)).Dispose();

        Assert.Equal(["/v1/secret/data/first", "/v1/secret/data/next"], vault.Order);
        Assert.Empty(shed.GetMeasurementSnapshot());
    }

    /// <summary>An upstream that holds each request (by path) until the test releases it, and counts what it saw.</summary>
    private sealed class HeldVault
    {
        private readonly Dictionary<string, TaskCompletionSource> _gates = [];
        private readonly List<string> _order = [];
        private int _inside;
        private int _peak;
        private bool _releaseAll;

        public Counter Arrived { get; } = new();

        public int Peak => Volatile.Read(ref _peak);

        public string[] Order
        {
            get
            {
                lock (_gates)
                {
                    return [.. _order];
                }
            }
        }

        public async Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value!;
            var inside = Interlocked.Increment(ref _inside);
            for (var peak = Volatile.Read(ref _peak); inside > peak; peak = Volatile.Read(ref _peak))
            {
                Interlocked.CompareExchange(ref _peak, inside, peak);
            }

            Task gate;
            lock (_gates)
            {
                _order.Add(path);
                gate = Gate(path).Task;
                if (_releaseAll)
                {
                    Gate(path).TrySetResult();
                }
            }

            Arrived.Add();
            await gate;
            Interlocked.Decrement(ref _inside);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}");
        }

        public void Release(string path)
        {
            lock (_gates)
            {
                Gate(path).TrySetResult();
            }
        }

        public void ReleaseAll()
        {
            lock (_gates)
            {
                _releaseAll = true;
                foreach (var gate in _gates.Values)
                {
                    gate.TrySetResult();
                }
            }
        }

        private TaskCompletionSource Gate(string path)
        {
            if (!_gates.TryGetValue(path, out var gate))
            {
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gates[path] = gate;
            }

            return gate;
        }
    }

    /// <summary>A count a test can await reaching a value (no polling).</summary>
    private sealed class Counter
    {
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _value;

        public int Value
        {
            get
            {
                lock (_waiters)
                {
                    return _value;
                }
            }
        }

        public void Add()
        {
            lock (_waiters)
            {
                _value++;
                _waiters.RemoveAll(w => w.Count <= _value && w.Reached.TrySetResult() | true);
            }
        }

        public Task AtLeast(int count)
        {
            lock (_waiters)
            {
                if (_value >= count)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, reached));
                return reached.Task;
            }
        }
    }
}
