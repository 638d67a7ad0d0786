using System.Security.Cryptography;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Gatehouse.Shared;
using Gatehouse.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// SIGHUP with <c>cache.shared</c> changed (issue 17): the running replica keeps its Redis connection and its key (a
/// replica that began sealing with a new key halfway would split from its fleet), and the reload names each change as
/// needing a restart, as it does for every setting it does not apply. A real host loaded from a file, a real redis-server.
/// </summary>
public sealed class SharedReloadTests : IDisposable
{
    private readonly TempDirectory _directory = new("gatehouse-shared-reload-");
    private readonly RedisServer _redis = new();
    private readonly CapturingWriter _log = new();

    public void Dispose()
    {
        _redis.Dispose();
        _directory.Dispose();
    }

    private string ConfigPath => _directory.Combine("proxy.hcl");

    private string KeyPath => _directory.Combine("fleet.key");

    private void WriteConfig(string? shared) => File.WriteAllText(ConfigPath, $$"""
        vault { address = "http://127.0.0.1:1" }
        cache { {{shared}} }
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
        }
        """);

    private string Shared(string address) => $$"""shared "redis" { address = "{{address}}" key_file = "{{KeyPath}}" }""";

    private void WriteKey() => File.WriteAllText(KeyPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    private ConfigLoadResult Load() => ConfigLoader.Load([ConfigPath], _ => null);

    private async Task<GatehouseHost> StartAsync()
    {
        var loaded = Load();
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics.Select(d => d.ToDisplayString())));
        var host = await GatehouseHost.StartAsync(loaded.Config!, new GatehouseHostOptions { LogConsole = _log, Reload = Load });
        return host;
    }

    [Fact]
    public async Task Reload_AddressAndKeyMaterialChanged_KeepsTheStoreAndItsKey_AndNamesBothAsNeedingARestart()
    {
        WriteKey();
        WriteConfig(Shared(_redis.Address));
        await using var host = await StartAsync();
        var store = host.Services.GetRequiredService<SharedStore>();
        await store.ConnectAsync(CancellationToken.None);
        Assert.True(store.IsUp);
        var keyId = store.Keys.KeyIdText;

        using var other = new RedisServer();
        WriteKey();
        WriteConfig(Shared(other.Address));
        Assert.True(await host.ReloadAsync());

        await _log.WaitForAsync("keep their old values until a restart: cache.shared.address, cache.shared.key_file (the key material in it)", FleetHarness.Bound);
        Assert.Same(store, host.Services.GetRequiredService<SharedStore>());
        Assert.Equal(_redis.Address, store.Address);
        Assert.Equal(keyId, store.Keys.KeyIdText);
        Assert.True((await store.RunAsync(db => db.PingAsync(), CancellationToken.None)).Ok);
    }

    [Fact]
    public async Task Reload_KeyMaterialChangedInPlaceOnly_IsNamed_TheSameKeyIsNot()
    {
        WriteKey();
        WriteConfig(Shared(_redis.Address));
        await using var host = await StartAsync();

        // The same file, the same contents: nothing to name.
        Assert.True(await host.ReloadAsync());
        await _log.WaitForAsync("configuration reloaded", FleetHarness.Bound);
        Assert.DoesNotContain("until a restart", _log.ToString(), StringComparison.Ordinal);

        WriteKey();
        Assert.True(await host.ReloadAsync());
        await _log.WaitForAsync("keep their old values until a restart: cache.shared.key_file (the key material in it)", FleetHarness.Bound);
    }

    [Fact]
    public async Task Reload_CacheSharedAddedOrRemoved_IsNamedAsNeedingARestart_AndChangesNothingRunning()
    {
        WriteKey();
        WriteConfig(shared: null);
        await using (var host = await StartAsync())
        {
            WriteConfig(Shared(_redis.Address));
            Assert.True(await host.ReloadAsync());
            await _log.WaitForAsync("keep their old values until a restart: cache.shared", FleetHarness.Bound);
            Assert.Null(host.Services.GetService<SharedStore>());
        }

        WriteConfig(Shared(_redis.Address));
        await using (var host = await StartAsync())
        {
            var store = host.Services.GetRequiredService<SharedStore>();
            WriteConfig(shared: null);
            Assert.True(await host.ReloadAsync());
            await _log.WaitForAsync("keep their old values until a restart: cache.shared", FleetHarness.Bound, occurrences: 2);
            Assert.True(await store.ConnectAsync(CancellationToken.None));
            Assert.True((await store.RunAsync(db => db.PingAsync(), CancellationToken.None)).Ok);
        }
    }
}
