using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Cache;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Benchmarks;

/// <summary>
/// Bytes per cached token entry: GC heap growth (<see cref="GC.GetTotalMemory(bool)"/> after a full collection) over
/// 10,000 distinct <c>POST /v1/auth/token/create</c> requests that each store a child token of the auto-auth token,
/// through the real <see cref="LeaseCache.SendAsync"/>. The upstream is a fake that answers as the forwarder would
/// hand Vault's answer over: a fresh ~450-byte body, a new header list and value arrays per answer, with
/// <c>Cache-Control</c> and <c>Content-Type</c> values shared (HttpClient interns known values) and a fresh <c>Date</c>.
/// Requests are built as Kestrel would: a fresh path string and a fresh copy of the token header per request.
/// A second figure adds one hit per entry (the memoised hit answer each entry then keeps).
/// Run with: dotnet run -c Release --project bench/Gatehouse.Benchmarks -- entry-bytes [entries] [runs]
/// </summary>
internal static class CacheEntryMemory
{
    private const string Parent = "hvs.CAESIParentAutoAuthTokenxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

    public static void Run(string[] args)
    {
        var entries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        Console.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, load average before: {LoadAverage()}");

        // Warm-up on a cache of its own (JIT, static tables, pools), thrown away before measuring.
        Measure(500, hit: true);
        var stored = new List<double>();
        var hit = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var (afterStore, afterHit) = Measure(entries, hit: true);
            stored.Add(afterStore);
            hit.Add(afterHit);
            Console.WriteLine($"run {i + 1}: {afterStore:F0} B per entry stored, {afterHit:F0} B per entry after one hit each");
        }

        stored.Sort();
        hit.Sort();
        Console.WriteLine($"bytes per cached token entry ({entries} entries, median of {runs}): {stored[runs / 2]:F0} stored, {hit[runs / 2]:F0} after one hit each");
        Console.WriteLine($"load average after: {LoadAverage()}");
    }

    private static (double Stored, double Hit) Measure(int entries, bool hit)
    {
        var time = TimeProvider.System;
        var index = new CacheIndex(entries + 10, long.MaxValue);
        var metrics = new Gatehouse.Telemetry.GatehouseMetrics();
        var renewer = new Renewer(time, new NeverSender(), index, metrics, NullLogger.Instance);
        var cache = new LeaseCache(new TokenCreateUpstream(), index, renewer, time, metrics, NullLogger.Instance);
        cache.RegisterAutoAuthToken(new AutoAuthToken(Parent, "parent-accessor", time.GetUtcNow(), TimeSpan.FromHours(24), Renewable: true));

        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < entries; i++)
        {
            var request = Request(i);
            var result = cache.SendAsync(request, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            if (request.ServedFromCache || result.Response is null)
            {
                throw new InvalidOperationException("expected a stored miss");
            }
        }

        if (index.Count != entries + 1)
        {
            throw new InvalidOperationException($"expected {entries} cached entries, have {index.Count - 1}");
        }

        var afterStore = GC.GetTotalMemory(forceFullCollection: true);
        double hitBytes = 0;
        if (hit)
        {
            for (var i = 0; i < entries; i++)
            {
                var request = Request(i);
                var result = cache.SendAsync(request, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                if (!request.ServedFromCache || result.Response is null)
                {
                    throw new InvalidOperationException("expected a hit");
                }
            }

            hitBytes = (GC.GetTotalMemory(forceFullCollection: true) - before) / (double)entries;
        }

        GC.KeepAlive(cache);
        renewer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return ((afterStore - before) / (double)entries, hitBytes);
    }

    /// <summary>A distinct token create, as Kestrel hands it over (fresh strings per request).</summary>
    private static ProxyRequest Request(int i)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"display_name":"app-{{i:D5}}","ttl":"1h","policies":["default"]}""");
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = new PathString(new string("/v1/auth/token/create"));
        var token = new string(Parent);
        context.Request.Headers["X-Vault-Token"] = token;
        context.Request.Headers.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        return new ProxyRequest(context) { Token = token };
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>Vault's token-create answer, built afresh for each request as the forwarder's buffered answer would be.</summary>
    private sealed class TokenCreateUpstream : IVaultProxier
    {
        private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

        public ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken)
        {
            var token = "hvs.CAESI" + Random(86);
            var body = Encoding.UTF8.GetBytes(
                $$"""{"request_id":"{{Guid.NewGuid()}}","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,"auth":{"client_token":"{{token}}","accessor":"{{Random(24)}}","policies":["default"],"token_policies":["default"],"metadata":null,"lease_duration":3600,"renewable":true,"entity_id":"","token_type":"service","orphan":false,"mfa_requirement":null,"num_uses":0},"mount_type":"token"}""");
            List<KeyValuePair<string, string[]>> headers =
            [
                new("Cache-Control", ["no-store"]),
                new("Date", [DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture)]),
                new("Content-Type", ["application/json"]),
                new("Content-Length", [body.Length.ToString(CultureInfo.InvariantCulture)]),
            ];
            return ValueTask.FromResult(ProxyResult.Buffered(new BufferedResponse(200, headers, body)));
        }

        private static string Random(int length) => RandomNumberGenerator.GetString(Alphabet, length);
    }

    private sealed class NeverSender : IRenewalSender
    {
        public ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken) => ValueTask.FromResult(new RenewalResult(RenewalOutcome.Failed));
    }
}
