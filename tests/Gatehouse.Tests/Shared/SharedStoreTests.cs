using Gatehouse.Configuration;
using Gatehouse.Shared;
using Gatehouse.Telemetry;
using Gatehouse.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gatehouse.Tests.Shared;

/// <summary><see cref="SharedStore"/> against a real redis-server: up and down, one log line per transition, bounds, auth, sealed values.</summary>
public sealed class SharedStoreTests : IDisposable
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    private readonly SharedKeys _keys = SharedKeys.FromMaterial(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private readonly FakeLogger<SharedStore> _logger = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned)
            owned.Dispose();
    }

    private RedisServer Redis(string? password = null, string? user = null)
    {
        var server = new RedisServer(password, user);
        _owned.Add(server);
        return server;
    }

    private SharedStore Store(RedisServer redis, TimeProvider? time = null, SharedKeys? keys = null, string? password = null, string? user = null,
        TimeSpan? operationTimeout = null, GatehouseMetrics? metrics = null, FakeLogger<SharedStore>? logger = null)
    {
        var config = new SharedConfig
        {
            Type = "redis",
            Address = redis.Address,
            Password = password,
            Username = user,
            KeyEnvVar = "unused",
            OperationTimeout = operationTimeout ?? TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        return new SharedStore(config, keys ?? _keys, time ?? TimeProvider.System, logger ?? _logger, metrics);
    }

    private int LogCount(int eventId, FakeLogger<SharedStore>? logger = null) =>
        (logger ?? _logger).Collector.GetSnapshot().Count(r => r.Id.Id == eventId);

    /// <summary>Waits (bounded) until the store reports <paramref name="up"/>, by its own transition event.</summary>
    private static async Task WaitForState(SharedStore store, bool up)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(bool now)
        {
            if (now == up)
                reached.TrySetResult();
        }

        store.StateChanged += OnChange;
        try
        {
            if (store.IsUp == up)
                return;
            await reached.Task.WaitAsync(EventTimeout);
        }
        finally
        {
            store.StateChanged -= OnChange;
        }
    }

    [Fact]
    public async Task Connect_IsUp_WithOneLogLine_AndOperationsWork()
    {
        var redis = Redis();
        await using var store = Store(redis);

        Assert.True(await store.ConnectAsync(CancellationToken.None));
        var set = await store.RunAsync(db => db.StringSetAsync(store.Key("t", "a"), "1"), CancellationToken.None);
        var get = await store.RunAsync(db => db.StringGetAsync(store.Key("t", "a")), CancellationToken.None);

        Assert.True(store.IsUp);
        Assert.True(set.Ok);
        Assert.Equal("1", get.Value.ToString());
        Assert.Equal("gatehouse:t:a", store.Key("t", "a"));
        Assert.Equal(1, LogCount(LogEvents.SharedStoreUp));
        Assert.Equal(0, LogCount(LogEvents.SharedStoreDown));
    }

    [Fact]
    public async Task Unreachable_AtStart_IsDown_AndNeverThrows()
    {
        var redis = Redis();
        redis.Kill();
        await using var store = Store(redis);

        Assert.False(await store.ConnectAsync(CancellationToken.None));
        var result = await store.RunAsync(db => db.StringGetAsync("x"), CancellationToken.None);

        Assert.False(store.IsUp);
        Assert.False(result.Ok);
        Assert.Equal(1, LogCount(LogEvents.SharedStoreDown));
    }

    [Fact]
    public async Task KilledAndRestarted_GoesDownOnce_ThenUpAgain()
    {
        var redis = Redis();
        using var metrics = new GatehouseMetrics();
        await using var store = Store(redis, metrics: metrics);
        Assert.True(await store.ConnectAsync(CancellationToken.None));

        redis.Kill();
        await WaitForState(store, up: false);
        for (var i = 0; i < 3; i++)
            Assert.False((await store.RunAsync(db => db.StringGetAsync("x"), CancellationToken.None)).Ok);

        Assert.Equal(1, LogCount(LogEvents.SharedStoreDown));
        redis.Start();
        await WaitForState(store, up: true);
        Assert.True((await store.RunAsync(db => db.StringSetAsync("x", "back"), CancellationToken.None)).Ok);
        Assert.Equal(2, LogCount(LogEvents.SharedStoreUp));
        Assert.Equal(1, LogCount(LogEvents.SharedStoreDown));
    }

    [Fact]
    public async Task SlowOperation_EndsAtOperationTimeout_OnTheInjectedClock()
    {
        var redis = Redis();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = Store(redis, time, operationTimeout: TimeSpan.FromSeconds(20));
        Assert.True(await store.ConnectAsync(CancellationToken.None).WaitAsync(EventTimeout));

        // BLPOP on an empty list blocks on the server for 60 s; only the operation timeout can end the wait.
        var blocked = store.RunAsync(db => db.ExecuteAsync("BLPOP", "empty-list", 60), CancellationToken.None);
        Assert.False(blocked.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(20));
        var result = await blocked.WaitAsync(EventTimeout);

        Assert.False(result.Ok);
        Assert.False(store.IsUp);
        Assert.Equal(1, LogCount(LogEvents.SharedStoreDown));
    }

    [Fact]
    public async Task AclUser_WithItsPassword_Connects_AndAWrongPasswordDoesNot()
    {
        var redis = Redis(password: "s3cret-pw", user: "gatehouse");
        await using var good = Store(redis, password: "s3cret-pw", user: "gatehouse");
        var badLogger = new FakeLogger<SharedStore>();
        await using var bad = Store(redis, password: "wrong", user: "gatehouse", logger: badLogger);

        Assert.True(await good.ConnectAsync(CancellationToken.None));
        Assert.True((await good.RunAsync(db => db.PingAsync(), CancellationToken.None)).Ok);
        Assert.False(await bad.ConnectAsync(CancellationToken.None));
        Assert.False(bad.IsUp);
        Assert.DoesNotContain(badLogger.Collector.GetSnapshot(), r => r.Message.Contains("wrong", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequirePass_WithoutAPassword_IsDown()
    {
        var redis = Redis(password: "only-this");
        await using var store = Store(redis);
        await using var withPassword = Store(redis, password: "only-this", logger: new FakeLogger<SharedStore>());

        Assert.False(await store.ConnectAsync(CancellationToken.None) && (await store.RunAsync(db => db.StringGetAsync("x"), CancellationToken.None)).Ok);
        Assert.True(await withPassword.ConnectAsync(CancellationToken.None));
        Assert.True((await withPassword.RunAsync(db => db.StringGetAsync("x"), CancellationToken.None)).Ok);
    }

    [Fact]
    public async Task SealedValues_OpenHere_AnotherKeysAreRefusedWithOneLogLine_DamagedOnesEachTime()
    {
        var redis = Redis();
        await using var store = Store(redis);
        var otherLogger = new FakeLogger<SharedStore>();
        await using var other = Store(redis, keys: SharedKeys.FromMaterial(new byte[32]), logger: otherLogger);
        await store.ConnectAsync(CancellationToken.None);
        await other.ConnectAsync(CancellationToken.None);
        var key = store.Key("fleet", "token");
        await store.RunAsync(db => db.StringSetAsync(key, store.Sealer.Seal(key, "hvs.token"u8)), CancellationToken.None);

        var mine = await store.GetSealedAsync(key, CancellationToken.None);
        var theirs1 = await other.GetSealedAsync(key, CancellationToken.None);
        var theirs2 = await other.GetSealedAsync(key, CancellationToken.None);
        await store.RunAsync(db => db.StringSetAsync(store.Key("copied"), store.Sealer.Seal(key, "x"u8)), CancellationToken.None);
        var copied = await store.GetSealedAsync(store.Key("copied"), CancellationToken.None);
        var missing = await store.GetSealedAsync(store.Key("none"), CancellationToken.None);

        Assert.Equal("hvs.token"u8.ToArray(), mine.Value);
        Assert.True(theirs1.Ok);
        Assert.Null(theirs1.Value);
        Assert.Null(theirs2.Value);
        var line = Assert.Single(otherLogger.Collector.GetSnapshot(), r => r.Id.Id == LogEvents.SharedStoreOtherKey);
        Assert.Contains(store.Keys.KeyIdText, line.Message, StringComparison.Ordinal);
        Assert.Contains(other.Keys.KeyIdText, line.Message, StringComparison.Ordinal);
        Assert.Null(copied.Value);
        Assert.Equal(1, LogCount(LogEvents.SharedStoreCorrupt));
        Assert.True(missing.Ok);
        Assert.Null(missing.Value);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot().Concat(otherLogger.Collector.GetSnapshot()), r => r.Message.Contains("hvs.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PubSub_DeliversToSubscribers()
    {
        var redis = Redis();
        await using var publisher = Store(redis);
        await using var subscriber = Store(redis, logger: new FakeLogger<SharedStore>());
        await publisher.ConnectAsync(CancellationToken.None);
        await subscriber.ConnectAsync(CancellationToken.None);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(await subscriber.SubscribeAsync(subscriber.Key("fleet", "events"), m => received.TrySetResult(m), CancellationToken.None));
        var published = await publisher.PublishAsync(publisher.Key("fleet", "events"), "epoch:3", CancellationToken.None);

        Assert.Equal(1, published.Value);
        Assert.Equal("epoch:3", await received.Task.WaitAsync(EventTimeout));
    }

    [Fact]
    public async Task Options_NeverAbortOnConnectFail_AndBoundEveryWait()
    {
        var redis = Redis();
        await using var store = Store(redis, operationTimeout: TimeSpan.FromMilliseconds(300));

        var options = store.Options();

        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(300, options.AsyncTimeout);
        Assert.Equal(5000, options.ConnectTimeout);
    }
}
