using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.ApiProxy;
using Gatehouse.Cache;
using Gatehouse.Cache.Static;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Benchmarks;

/// <summary>
/// A hit through each cache decorator's whole <c>SendAsync</c>, as the request handler calls it: a lease-cache hit
/// (token create: body buffered, request keyed, answer replayed) beside a static-secret hit (KV v2 read by a token
/// holding the grant). Both end in the same stored-answer replay, so the difference is each decorator's own work.
/// </summary>
[MemoryDiagnoser]
public class DecoratorHitBenchmarks
{
    private const string Parent = "s.parenttoken000000000000";
    private static readonly byte[] CreateBody = Encoding.UTF8.GetBytes("""{"ttl":"1h","policies":["default"]}""");
    private LeaseCache _lease = null!;
    private StaticSecretCache _static = null!;
    private Renewer _renewer = null!;
    private DefaultHttpContext _leaseContext = null!;
    private DefaultHttpContext _staticContext = null!;
    private MemoryStream _createBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        var index = new CacheIndex(100_000, long.MaxValue);
        var metrics = new GatehouseMetrics();
        _renewer = new Renewer(time, new NeverSender(), index, metrics, NullLogger.Instance);
        _lease = new LeaseCache(new NeverProxier(), index, _renewer, time, metrics, NullLogger.Instance);
        var vault = new VaultClient(new HttpMessageInvoker(new SocketsHttpHandler()), new Uri("http://127.0.0.1:1"), null, time);
        _static = new StaticSecretCache(_lease, _lease, vault, new StaticCacheOptions(TimeSpan.FromMinutes(5), false, TimeSpan.Zero), time, metrics, NullLogger.Instance);

        // The lease-cache entry: a token create under Parent.
        _createBody = new MemoryStream(CreateBody, writable: false);
        _leaseContext = Context("POST", "/v1/auth/token/create", Parent);
        _leaseContext.Request.ContentLength = CreateBody.Length;
        _leaseContext.Request.ContentType = "application/json";
        var createAnswer = Encoding.UTF8.GetBytes("""{"request_id":"1","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,"auth":{"client_token":"s.abcdefghijklmnopqrstuvwx","accessor":"acc","policies":["default"],"token_policies":["default"],"metadata":null,"lease_duration":3600,"renewable":true,"entity_id":"","token_type":"service","orphan":false}}""");
        index.TryAdd(new CacheEntry
        {
            Id = CacheKey.Compute(new CacheRequest("POST", "/v1/auth/token/create", null, null, Parent, CreateBody)), Kind = CacheEntryKind.Token,
            Namespace = "root/", RequestPath = "/v1/auth/token/create", Token = "s.abcdefghijklmnopqrstuvwx",
            Response = new CachedResponse(200, [new("Content-Type", ["application/json"]), new("Cache-Control", ["no-store"])], createAnswer, authTtl: true),
            FetchedAt = time.GetUtcNow(), OriginalTtlSeconds = 3600, Lifetime = new CacheLifetime(time.GetUtcNow(), 3600),
        });

        // The static entry: secret/data/app/db (KV v2), and Parent's grant on it.
        _staticContext = Context("GET", "/v1/secret/data/app/db", Parent);
        _static.Mounts.Learn("", "secret/", MountKind.KvV2);
        var info = new StaticSecretInfo("", "secret/", 2, "app/db", null) { Version = 1 };
        var kvAnswer = Encoding.UTF8.GetBytes("""{"request_id":"2","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"password":"s3cret"},"metadata":{"created_time":"2026-12-07T00:00:00Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}},"wrap_info":null,"warnings":null,"auth":null}""");
        index.TryAdd(new CacheEntry
        {
            Id = StaticSecretCache.KeyOf(info), Kind = CacheEntryKind.StaticSecret, Static = info, Namespace = "root/", RequestPath = "/v1/secret/data/app/db",
            Response = new CachedResponse(200, [new("Content-Type", ["application/json"]), new("Cache-Control", ["no-store"])], kvAnswer, authTtl: false),
            FetchedAt = time.GetUtcNow(), Lifetime = new CacheLifetime(time.GetUtcNow(), 0),
        });
        _static.Grants.Grant(Parent, StaticSecretCache.GrantOf(info));
        if (!StaticHit().Result || !LeaseHit().Result)
        {
            throw new InvalidOperationException("benchmark setup: not a hit");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _renewer.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public async Task<bool> LeaseHit()
    {
        _createBody.Position = 0;
        _leaseContext.Request.Body = _createBody;
        var request = new ProxyRequest(_leaseContext) { Token = Parent };
        var result = await _lease.SendAsync(request, CancellationToken.None);
        return request.ServedFromCache && result.Response is not null;
    }

    [Benchmark]
    public async Task<bool> StaticHit()
    {
        var request = new ProxyRequest(_staticContext) { Token = Parent };
        var result = await _static.SendAsync(request, CancellationToken.None);
        return request.ServedFromCache && result.Response is not null;
    }

    private static DefaultHttpContext Context(string method, string path, string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = path;
        context.Request.Headers["X-Vault-Token"] = token;
        context.Request.Headers["X-Vault-Request"] = "true";
        return context;
    }

    private sealed class NeverSender : IRenewalSender
    {
        public ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken) => ValueTask.FromResult(new RenewalResult(RenewalOutcome.Failed));
    }

    private sealed class NeverProxier : IVaultProxier
    {
        public ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("benchmark: no upstream");
    }
}
