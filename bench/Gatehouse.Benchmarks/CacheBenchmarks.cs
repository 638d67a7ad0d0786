using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.ApiProxy;
using Gatehouse.Cache;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Benchmarks;

/// <summary>
/// The lease cache's hit path without the network: compute the key of a token-create request, look it up, and
/// write status, headers and body into a pooled buffer, as a listener would.
/// </summary>
[MemoryDiagnoser]
public class CacheBenchmarks
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"ttl":"1h","policies":["default"]}""");
    private static readonly KeyValuePair<string, string>[] Headers = [new("X-Vault-Request", "true")];
    private LeaseCache _cache = null!;
    private Renewer _renewer = null!;
    private readonly ArrayBufferWriter<byte> _writer = new(4096);

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        var index = new CacheIndex(100_000, long.MaxValue);
        var metrics = new Gatehouse.Telemetry.GatehouseMetrics();
        _renewer = new Renewer(time, new NeverSender(), index, metrics, NullLogger.Instance);
        _cache = new LeaseCache(new NeverProxier(), index, _renewer, time, metrics, NullLogger.Instance);
        var response = Encoding.UTF8.GetBytes("""{"request_id":"1","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,"auth":{"client_token":"s.abcdefghijklmnopqrstuvwx","accessor":"acc","policies":["default"],"token_policies":["default"],"metadata":null,"lease_duration":3600,"renewable":true,"entity_id":"","token_type":"service","orphan":false}}""");
        index.TryAdd(new CacheEntry
        {
            Id = CacheKey.Compute(Request()), Kind = CacheEntryKind.Token, Namespace = "root/", RequestPath = "/v1/auth/token/create",
            Token = "s.abcdefghijklmnopqrstuvwx", Response = new CachedResponse(200, [new("Content-Type", ["application/json"]), new("Cache-Control", ["no-store"])], response, authTtl: true),
            FetchedAt = time.GetUtcNow(), OriginalTtlSeconds = 3600, Lifetime = new CacheLifetime(time.GetUtcNow(), 3600),
        });
    }

    [GlobalCleanup]
    public void Cleanup() => _renewer.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static CacheRequest Request() => new("POST", "/v1/auth/token/create", null, null, "s.parenttoken000000000000", Body, Headers);

    [Benchmark]
    public int HitPath()
    {
        var key = CacheKey.Compute(Request());
        var result = _cache.TryHit(key)!.Value.Response!;
        _writer.ResetWrittenCount();
        var span = _writer.GetSpan(64);
        var written = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n", span);
        _writer.Advance(written);
        foreach (var (name, values) in result.Headers)
        {
            foreach (var value in values)
            {
                var line = _writer.GetSpan(name.Length + value.Length + 4);
                var n = Encoding.ASCII.GetBytes(name, line);
                line[n++] = (byte)':';
                line[n++] = (byte)' ';
                n += Encoding.ASCII.GetBytes(value, line[n..]);
                line[n++] = (byte)'\r';
                line[n++] = (byte)'\n';
                _writer.Advance(n);
            }
        }

        _writer.Write(result.Body.Span);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public ulong KeyOnly() => CacheKey.Compute(Request()).A;

    private sealed class NeverSender : IRenewalSender
    {
        public ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken) => ValueTask.FromResult(new RenewalResult(RenewalOutcome.Failed));
    }

    private sealed class NeverProxier : IVaultProxier
    {
        public ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("benchmark: no upstream");
    }
}
