using System.Security.Cryptography;
using System.Text;
using Gatehouse.Cache;
using Gatehouse.Cache.Persistence;
using Gatehouse.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Cache.Persistence;

public sealed class CacheStoreFileTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("gatehouse-store-");
    private readonly List<CacheEntry> _live = [];

    public void Dispose() => _dir.Dispose();

    private string StorePath => Path.Combine(_dir, CacheStoreFile.FileName);

    private StoreKey FileKey(byte[]? key = null)
    {
        var path = Path.Combine(_dir, $"key-{Guid.NewGuid():N}");
        File.WriteAllText(path, Convert.ToBase64String(key ?? RandomNumberGenerator.GetBytes(32)));
        return StoreKey.Load(new PersistConfig { Type = "file", Path = _dir, KeyFile = path });
    }

    private CacheStoreFile Open(StoreKey key) => CacheStoreFile.Create(StorePath, key, () => _live, NullLogger.Instance);

    private static CacheEntry Token(string token, string? parent = null) => new()
    {
        Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = "root/", RequestPath = "/v1/auth/approle/login",
        RequestMethod = "PUT", Token = token, TokenAccessor = "acc-" + token, TokenParent = parent, RequestToken = parent,
        FetchedAt = Now, OriginalTtlSeconds = 3600, Lifetime = new CacheLifetime(Now, 3600),
        Response = new CachedResponse(200, [new("Content-Type", ["application/json"])],
            Encoding.UTF8.GetBytes("{\"auth\":{\"client_token\":\"" + token + "\",\"lease_duration\":3600}}"), authTtl: true),
    };

    [Fact]
    public void Store_SaveThenRead_RoundTripsEveryField()
    {
        var key = FileKey();
        var entry = Token("hvs.secret-one", parent: "hvs.parent");
        entry.Lifetime = new CacheLifetime(Now.AddMinutes(20), 3000);
        using (var store = Open(key))
        {
            store.Save(entry);
        }

        var read = Assert.Single(CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries);
        Assert.Equal(entry.Id, read.Id);
        Assert.Equal((entry.Kind, entry.Token, entry.TokenAccessor, entry.TokenParent, entry.RequestToken, entry.RequestPath, entry.RequestMethod, entry.Namespace),
            (read.Kind, read.Token, read.TokenAccessor, read.TokenParent, read.RequestToken, read.RequestPath, read.RequestMethod, read.Namespace));
        Assert.Equal(entry.Lifetime, read.Lifetime);
        Assert.Equal(entry.FetchedAt, read.FetchedAt);
        Assert.Equal(entry.Response!.Body, read.Response!.Body);
        Assert.Equal(entry.Response.TtlSpans, read.Response.TtlSpans);
        Assert.Equal("application/json", read.Response.Headers.Single().Value.Single());
    }

    [Fact]
    public void Store_DeleteAndResave_LastRecordWins()
    {
        var key = FileKey();
        var a = Token("a");
        var b = Token("b");
        using (var store = Open(key))
        {
            store.Save(a);
            store.Save(b);
            store.Delete(a);
            b.Lifetime = new CacheLifetime(Now.AddHours(1), 3600);
            store.Save(b);
        }

        var read = Assert.Single(CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries);
        Assert.Equal(b.Id, read.Id);
        Assert.Equal(Now.AddHours(1), read.Lifetime.Since);
    }

    [Fact]
    public void Store_Clear_LeavesAnEmptyStore()
    {
        var key = FileKey();
        using (var store = Open(key))
        {
            store.Save(Token("a"));
            store.Clear();
        }

        Assert.Empty(CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries);
    }

    [Fact]
    public void Store_ManyRenewals_CompactsTheFile()
    {
        var key = FileKey();
        var entry = Token("a");
        _live.Add(entry);
        using var store = Open(key);
        for (var i = 0; i < 30_000; i++)
        {
            store.Save(entry);
        }

        Assert.True(store.Length < 5 * 1024 * 1024, $"{store.Length} bytes");
        store.Dispose();
        Assert.Single(CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries);
    }

    [Fact]
    public void Store_RenameOverTheStoreFails_ThrowsAndLeavesNoTempFile()
    {
        // The temp file is written whole before the rename; a rename that fails (here: a directory holds the store's
        // name) must not leave gatehouse-cache.db.tmp behind.
        Directory.CreateDirectory(StorePath);

        Assert.ThrowsAny<IOException>(() => Open(FileKey()));

        Assert.False(File.Exists(StorePath + ".tmp"));
    }

    [Fact]
    public void Store_ClearWhenTheRewriteFails_StillEmptiesTheStoreAndKeepsWriting()
    {
        // The rewrite cannot create its temp file (a directory holds the name): the failure stays inside the store,
        // which empties itself with delete records instead and goes on appending.
        var key = FileKey();
        var a = Token("a");
        var b = Token("b");
        using (var store = Open(key))
        {
            store.Save(a);
            Directory.CreateDirectory(StorePath + ".tmp");
            store.Clear();
            store.Save(b);
        }

        Assert.Equal([b.Id], CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries.Select(e => e.Id));
        Assert.Empty(Directory.EnumerateFileSystemEntries(StorePath + ".tmp"));
    }

    [Fact]
    public void Store_CompactionThatFails_KeepsAppendingToTheCurrentFile()
    {
        var key = FileKey();
        var entry = Token("a");
        _live.Add(entry);
        using (var store = Open(key))
        {
            Directory.CreateDirectory(StorePath + ".tmp");
            for (var i = 0; i < 30_000; i++)
            {
                store.Save(entry);
            }

            Assert.True(store.Length > 5 * 1024 * 1024, $"{store.Length} bytes");
            entry.Lifetime = new CacheLifetime(Now.AddHours(2), 3600);
            store.Save(entry);
        }

        Assert.Equal(Now.AddHours(2), Assert.Single(CacheStoreFile.Read(StorePath, key, NullLogger.Instance).Entries).Lifetime.Since);
    }

    [Fact]
    public void Store_WrongKey_ThrowsBeforeReadingRecords()
    {
        using (var store = Open(FileKey()))
        {
            store.Save(Token("a"));
        }

        var exception = Assert.Throws<CachePersistException>(() => CacheStoreFile.Read(StorePath, FileKey(), NullLogger.Instance));
        Assert.False(exception.AlwaysFatal);
        Assert.Contains("wrong key", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_GarbageBetweenRecords_IsSkippedAndLaterRecordsRead()
    {
        var key = FileKey();
        var a = Token("a");
        var b = Token("b");
        using (var store = Open(key))
        {
            store.Save(a);
            store.Save(b);
        }

        var bytes = File.ReadAllBytes(StorePath);
        var endOfA = CacheStoreFile.HeaderSize + CacheStoreFile.RecordPrefixSize + BitConverter.ToInt32(bytes, CacheStoreFile.HeaderSize + 4);
        File.WriteAllBytes(StorePath, [.. bytes[..endOfA], .. RandomNumberGenerator.GetBytes(100), .. bytes[endOfA..]]);

        var contents = CacheStoreFile.Read(StorePath, key, NullLogger.Instance);
        Assert.Equal([a.Id, b.Id], contents.Entries.Select(e => e.Id));
        Assert.True(contents.Problems >= 1);
    }

    [Fact]
    public void Store_RecordChecksum_IsCrc32IeeeOfThePayload()
    {
        // Locks the on-disk format: the record CRC is CRC-32/IEEE (reflected 0xEDB88320), whatever computes it.
        var key = FileKey();
        using (var store = Open(key))
        {
            store.Save(Token("crc"));
        }

        var bytes = File.ReadAllBytes(StorePath);
        var record = bytes.AsSpan(CacheStoreFile.HeaderSize);
        var length = BitConverter.ToInt32(record[4..]);
        var crc = BitConverter.ToUInt32(record[8..]);
        Assert.Equal(ReferenceCrc32(record.Slice(CacheStoreFile.RecordPrefixSize, length)), crc);
        Assert.Equal(0xCBF43926u, ReferenceCrc32("123456789"u8));
    }

    /// <summary>The textbook bitwise CRC-32/IEEE, independent of the implementation under test.</summary>
    private static uint ReferenceCrc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    [Fact]
    public void Kubernetes_KeyFromServiceAccountToken_RotationMakesTheStoreUnreadable()
    {
        var tokenFile = Path.Combine(_dir, "sa-token");
        File.WriteAllText(tokenFile, "eyJhbGciOi.first-token.sig\n");
        var persist = new PersistConfig { Type = "kubernetes", Path = _dir, ServiceAccountTokenFile = tokenFile };
        var key = StoreKey.Load(persist);
        Assert.Equal(StoreKeyKind.ServiceAccountToken, key.Kind);
        using (var store = Open(key))
        {
            store.Save(Token("a"));
        }

        Assert.Single(CacheStoreFile.Read(StorePath, StoreKey.Load(persist), NullLogger.Instance).Entries);
        Assert.Equal(-1, File.ReadAllBytes(StorePath).AsSpan().IndexOf("first-token"u8));

        File.WriteAllText(tokenFile, "eyJhbGciOi.rotated-token.sig");
        var exception = Assert.Throws<CachePersistException>(() => CacheStoreFile.Read(StorePath, StoreKey.Load(persist), NullLogger.Instance));
        Assert.Contains("rotated", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("AAAA")]
    [InlineData("")]
    public void Key_MalformedKeyFile_IsAlwaysFatal(string content)
    {
        var path = Path.Combine(_dir, "bad-key");
        File.WriteAllText(path, content);
        var exception = Assert.Throws<CachePersistException>(() => StoreKey.Load(new PersistConfig { Type = "file", Path = _dir, KeyFile = path }));
        Assert.True(exception.AlwaysFatal);
    }

    [Fact]
    public void Key_EnvVarUnsetOrKeyFileMissing_IsAlwaysFatal()
    {
        Assert.True(Assert.Throws<CachePersistException>(() => StoreKey.Load(new PersistConfig { Type = "file", Path = _dir, KeyEnvVar = "GH_KEY" }, _ => null)).AlwaysFatal);
        Assert.True(Assert.Throws<CachePersistException>(() => StoreKey.Load(new PersistConfig { Type = "file", Path = _dir, KeyFile = Path.Combine(_dir, "missing") })).AlwaysFatal);
        Assert.True(Assert.Throws<CachePersistException>(() => StoreKey.Load(new PersistConfig { Type = "file", Path = _dir })).AlwaysFatal);
    }

    [Fact]
    public void Key_FromEnvVar_AndKubernetesWithConfiguredKey_UseTheConfiguredKey()
    {
        var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var key = StoreKey.Load(new PersistConfig { Type = "kubernetes", Path = _dir, KeyEnvVar = "GH_KEY", ServiceAccountTokenFile = "/nonexistent" }, _ => value);
        Assert.Equal(StoreKeyKind.ConfiguredKey, key.Kind);
    }

    [Fact]
    public void Key_KubernetesWithoutTokenFile_IsNotAlwaysFatal()
    {
        var exception = Assert.Throws<CachePersistException>(() => StoreKey.Load(new PersistConfig { Type = "kubernetes", Path = _dir, ServiceAccountTokenFile = Path.Combine(_dir, "none") }));
        Assert.False(exception.AlwaysFatal);
        Assert.StartsWith("failed to read service account token from", exception.Message, StringComparison.Ordinal);
    }
}
