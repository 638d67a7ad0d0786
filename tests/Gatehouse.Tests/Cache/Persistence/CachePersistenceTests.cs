using System.Security.Cryptography;
using Gatehouse.ApiProxy;
using Gatehouse.Cache;
using Gatehouse.Cache.Persistence;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Cache.Persistence;

/// <summary>The restore's handling of what it finds at the persist path (the end-to-end restores are integration tests).</summary>
public sealed class CachePersistenceTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-persistence-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LeaseCache _cache;

    public CachePersistenceTests()
    {
        var index = new CacheIndex(100, long.MaxValue);
        var metrics = new GatehouseMetrics();
        var renewer = new Renewer(_time, new NeverSender(), index, metrics, NullLogger.Instance);
        _cache = new LeaseCache(new NeverProxier(), index, renewer, _time, metrics, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _cache.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string StoreDir => Path.Combine(_dir, "store");

    private string StorePath => Path.Combine(StoreDir, CacheStoreFile.FileName);

    private CachePersistence Persistence(bool exitOnError = false, bool keep = true)
    {
        var keyFile = Path.Combine(_dir, "key");
        File.WriteAllText(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var persist = new PersistConfig { Type = "file", Path = StoreDir, KeyFile = keyFile, ExitOnError = exitOnError, KeepAfterImport = keep };
        return new CachePersistence(_cache, persist, _time, NullLogger<CachePersistence>.Instance);
    }

    /// <summary>Everything under the store directory, relative, sorted.</summary>
    private string[] StoreDirListing() =>
        [.. Directory.EnumerateFileSystemEntries(StoreDir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(StoreDir, p)).Order(StringComparer.Ordinal)];

    [Fact]
    public void Restore_StorePathTakenByADirectory_RunsWithoutPersistenceAndLeavesNothingBehind()
    {
        // A directory where the store file belongs (a volume mounted one level too deep, say): it cannot be read or
        // replaced, which the documentation treats as an unwritable store: logged, Gatehouse runs without persistence.
        Directory.CreateDirectory(StorePath);
        File.WriteAllText(Path.Combine(StorePath, "someone-elses"), "kept");

        Persistence().Restore();

        Assert.Null(_cache.Store);
        Assert.Equal([CacheStoreFile.FileName, Path.Combine(CacheStoreFile.FileName, "someone-elses")], StoreDirListing());
    }

    [Fact]
    public void Restore_StorePathTakenByADirectoryWithExitOnErr_IsFatalAndLeavesNothingBehind()
    {
        Directory.CreateDirectory(StorePath);

        var exception = Assert.Throws<CachePersistException>(() => Persistence(exitOnError: true).Restore());

        Assert.True(exception.AlwaysFatal);
        Assert.Contains("is a directory", exception.Message, StringComparison.Ordinal);
        Assert.Null(_cache.Store);
        Assert.Equal([CacheStoreFile.FileName], StoreDirListing());
    }

    [Fact]
    public void Restore_PersistPathIsAnExistingDirectory_CreatesTheStoreInsideAndNothingElse()
    {
        Directory.CreateDirectory(StoreDir);

        Persistence().Restore();

        Assert.NotNull(_cache.Store);
        Assert.Equal([CacheStoreFile.FileName], StoreDirListing());
    }

    private sealed class NeverSender : IRenewalSender
    {
        public ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken) => ValueTask.FromResult(new RenewalResult(RenewalOutcome.Failed));
    }

    private sealed class NeverProxier : IVaultProxier
    {
        public ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("no upstream in these tests");
    }
}
