using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Cache.Persistence;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.IntegrationTests.Cache.CacheHarness;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>The persistent cache end to end: the real host restarted over the same store, DevVault still up (or not).</summary>
public sealed class PersistenceEndToEndTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-persist-");

    private string StorePath => Path.Combine(_dir, "store", CacheStoreFile.FileName);

    public void Dispose() => _dir.Dispose();

    private string NewKeyFile(string name = "key")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        return path;
    }

    private Func<CacheConfig, CacheConfig> Persist(string keyFile, bool keep = true, bool exitOnError = false) =>
        c => c with { Persist = new PersistConfig { Type = "file", Path = Path.Combine(_dir, "store"), KeyFile = keyFile, KeepAfterImport = keep, ExitOnError = exitOnError } };

    private static CachePersistence Persistence(CacheHarness h) => h.Host.Services.GetRequiredService<CachePersistence>();

    private static async Task<string> Field(HttpResponseMessage response, params string[] path)
    {
        var node = await ReadJson(response);
        foreach (var name in path)
        {
            node = node[name]!;
        }

        return node.ToString();
    }

    [Fact]
    public async Task Persistence_AcrossRestart_SameTokenAndLeaseAreHitsAndRenewalResumes()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = await Field(read, "lease_id");

        await h.RestartHostAsync();
        Assert.Equal(2, Persistence(h).Summary!.Restored);
        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        Assert.Equal(token, await Field(login, "auth", "client_token"));
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(again));
        Assert.Equal(lease, await Field(again, "lease_id"));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", "/v1/secret/db"));

        // The restored entries renew on their old schedule: the lease (30 min) at about 20, the token (1 h) at about 40.
        await h.AdvanceAsync(TimeSpan.FromMinutes(21));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew"));
        await h.AdvanceAsync(TimeSpan.FromMinutes(20));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
        Assert.NotNull(h.Cache.Index.GetByLease(lease));
    }

    [Fact]
    public async Task Persistence_AfterRenewal_RestoreUsesTheRenewedLifetime()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = await Field(read, "lease_id");
        await h.AdvanceAsync(TimeSpan.FromMinutes(21)); // renewed: 30 min from now
        await h.StopHostAsync();
        h.Time.Advance(TimeSpan.FromMinutes(20)); // 41 min after the fetch: expired by the first TTL, alive by the renewal

        await h.RestartHostAsync();
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(again));
        Assert.Equal(lease, await Field(again, "lease_id"));
        Assert.Equal(600, (long)(await ReadJson(again))["lease_duration"]!);
    }

    [Fact]
    public async Task Persistence_StoreFile_NeverHoldsPlaintextTokenLeaseOrSecret()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = await Field(read, "lease_id");
        Assert.NotNull(h.Cache.Index.GetByLease(lease));

        await h.StopHostAsync();
        var bytes = await File.ReadAllBytesAsync(StorePath);
        Assert.True(bytes.Length > CacheStoreFile.HeaderSize + 200);
        foreach (var secret in new[] { token, lease, "s3cret", h.SecretId, "client_token" })
        {
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
        }
    }

    [Fact]
    public async Task Persistence_CorruptedEntry_IsSkippedWhileOthersRestore()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var other = await Field(await h.Root.PostAsync("/v1/auth/approle/role/app/secret-id", null), "data", "secret_id");
        var first = await h.LoginTokenAsync();
        var second = await Field(await h.LoginAsync(other), "auth", "client_token");
        await h.StopHostAsync();

        // Flip bytes inside the first record's ciphertext.
        var bytes = await File.ReadAllBytesAsync(StorePath);
        var inside = CacheStoreFile.HeaderSize + CacheStoreFile.RecordPrefixSize + 1 + 32 + 12 + 16 + 20;
        bytes[inside] ^= 0xFF;
        bytes[inside + 1] ^= 0x5A;
        await File.WriteAllBytesAsync(StorePath, bytes);

        await h.RestartHostAsync();
        var summary = Persistence(h).Summary!;
        Assert.Equal(1, summary.Restored);
        Assert.Equal(1, summary.Errors);
        using var a = await h.LoginAsync();
        using var b = await h.LoginAsync(other);
        Assert.Equal("MISS", XCache(a));
        Assert.NotEqual(first, await Field(a, "auth", "client_token"));
        Assert.Equal("HIT", XCache(b));
        Assert.Equal(second, await Field(b, "auth", "client_token"));
    }

    [Fact]
    public async Task Persistence_TornLastWrite_LosesOnlyThatEntry()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        await h.StopHostAsync();
        var bytes = await File.ReadAllBytesAsync(StorePath);
        await File.WriteAllBytesAsync(StorePath, bytes[..^7]);

        await h.RestartHostAsync();
        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(again));
    }

    [Fact]
    public async Task Persistence_WrongKey_IsLoggedAndStartsEmptyWithAFreshStore()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        await h.LoginTokenAsync();
        var otherKey = NewKeyFile("other-key");

        await h.RestartHostAsync(Persist(otherKey));
        Assert.Equal(0, h.Cache.Index.Count);
        Assert.True(File.Exists(StorePath + ".unreadable"));
        using var login = await h.LoginAsync();
        Assert.Equal("MISS", XCache(login));

        // The fresh store works with the new key.
        await h.RestartHostAsync();
        using var again = await h.LoginAsync();
        Assert.Equal("HIT", XCache(again));
    }

    [Fact]
    public async Task Persistence_WrongKeyWithExitOnErr_RefusesToStart()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        await h.LoginTokenAsync();
        await h.StopHostAsync();
        var config = h.Config with { Cache = Persist(NewKeyFile("other-key"), exitOnError: true)(h.Config.Cache!) };

        var exception = await Assert.ThrowsAsync<CachePersistException>(() => GatehouseHost.StartAsync(config, new GatehouseHostOptions { TimeProvider = h.Time }));
        Assert.Contains("exit_on_err", exception.Message, StringComparison.Ordinal);

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Error, await DaemonRunner.RunAsync(config, new GatehouseHostOptions(), stdout, stderr, CancellationToken.None));
        Assert.Contains("Error restoring the persistent cache", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("cannot be decrypted", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Persistence_MalformedKeyFile_RefusesToStartWhateverExitOnErr()
    {
        var keyFile = Path.Combine(_dir, "short-key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(new byte[16]));
        var exception = await Assert.ThrowsAsync<CachePersistException>(() => StartAsync(Persist(keyFile)));
        Assert.True(exception.AlwaysFatal);
        Assert.Contains("32-byte", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Persistence_ExpiredEntries_AreSkipped()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        await h.StopHostAsync();
        h.Time.Advance(TimeSpan.FromMinutes(35)); // the lease (30 min) is gone, the token (1 h) is not

        await h.RestartHostAsync();
        var summary = Persistence(h).Summary!;
        Assert.Equal(1, summary.Restored);
        Assert.Equal(1, summary.Expired);
        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(again));
    }

    [Fact]
    public async Task Persistence_VaultDownAtStart_StillStartsAndServesRestoredHits()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = await Field(read, "lease_id");
        await h.StopHostAsync();
        await h.Vault.Faults.StopListenerAsync();

        await h.RestartHostAsync();
        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        Assert.Equal(token, await Field(login, "auth", "client_token"));
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(again));

        // Renewals fail while Vault is away and back off; nothing is evicted while time is left.
        await h.AdvanceAsync(TimeSpan.FromMinutes(21));
        Assert.NotNull(h.Cache.Index.GetByLease(lease));
        await h.Vault.Faults.RestartListenerAsync();
    }

    [Fact]
    public async Task Persistence_KeepAfterImportFalse_DeletesTheStoreAndRunsWithoutPersistence()
    {
        await using var h = await StartAsync(Persist(NewKeyFile(), keep: false));
        var token = await h.LoginTokenAsync();
        Assert.True(File.Exists(StorePath)); // no store at start: one is created and used

        await h.RestartHostAsync();
        Assert.False(File.Exists(StorePath));
        Assert.Null(h.Cache.Store);
        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        Assert.Equal(token, await Field(login, "auth", "client_token"));
    }

    [Fact]
    public async Task Persistence_CacheClearAll_ClearsTheStore()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        await h.LoginTokenAsync();
        using (var clear = await h.Client.PostAsJsonAsync("/proxy/v1/cache-clear", new { type = "all" }))
        {
            Assert.True(clear.IsSuccessStatusCode);
        }

        await h.RestartHostAsync();
        Assert.Equal(0, Persistence(h).Summary!.Read);
        using var login = await h.LoginAsync();
        Assert.Equal("MISS", XCache(login));
    }

    [Fact]
    public async Task Persistence_AutoAuthToken_IsRestoredManagedAndOfferedAsPreloadedToken()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await Field(await h.Root.PostAsJsonAsync("/v1/auth/token/create", new { ttl = "1h" }), "auth", "client_token");
        h.Host.TokenStore.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, "acc", h.Time.GetUtcNow(), TimeSpan.FromHours(1), true));
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);

        await h.RestartHostAsync();
        Assert.Equal(token, h.Host.TokenStore.Restored?.Token);
        Assert.True(h.Cache.Index.IsManagedToken(token));
        using var again = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(again));
    }

    [Fact]
    public async Task Persistence_RevokedEntry_IsNotRestored()
    {
        await using var h = await StartAsync(Persist(NewKeyFile()));
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = await Field(read, "lease_id");
        using (await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke", token, new { lease_id = lease }))
        {
        }

        await h.RestartHostAsync();
        Assert.Null(h.Cache.Index.GetByLease(lease));
        Assert.NotNull(h.Cache.Index.GetByToken(token));
    }
}
