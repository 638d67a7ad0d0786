using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.TestSupport;

/// <summary>
/// Runs an <see cref="AuthHandler"/> on a fake clock. Each wait the loop enters is queued; a test reads the next one
/// (the loop is then quiescent, its timer armed) and advances the clock past it. No sleeps.
/// </summary>
internal sealed class AuthLoopDriver : IAsyncDisposable
{
    /// <summary>A safety net so a broken loop fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly Channel<AuthLoopWait> _waits = Channel.CreateUnbounded<AuthLoopWait>();
    private readonly CancellationTokenSource _stop = new();

    public AuthLoopDriver(IAuthMethod method, VaultClient client, AuthHandlerOptions? options = null, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Logs = new FakeLogCollector();
        LoggerFactory = new LoggerFactory([new FakeLoggerProvider(Logs)], new LoggerFilterOptions { MinLevel = LogLevel.Trace });
        Handler = new AuthHandler(method, client, Store, Metrics, Time, LoggerFactory.CreateLogger<AuthHandler>(),
            options ?? new AuthHandlerOptions { Random = () => 0 });
        Handler.Waiting += wait => _waits.Writer.TryWrite(wait);
        Store.Published += token => Published.Add(token);
    }

    public FakeTimeProvider Time { get; }

    public TokenStore Store { get; } = new();

    public GatehouseMetrics Metrics { get; } = new();

    public FakeLogCollector Logs { get; }

    public ILoggerFactory LoggerFactory { get; }

    public AuthHandler Handler { get; }

    public List<AutoAuthToken> Published { get; } = [];

    public Task<AuthOutcome>? Run { get; private set; }

    public AuthLoopDriver Start()
    {
        Run = Task.Run(() => Handler.RunAsync(_stop.Token));
        return this;
    }

    /// <summary>The next wait the loop enters.</summary>
    public async Task<AuthLoopWait> NextWaitAsync()
    {
        var read = _waits.Reader.ReadAsync().AsTask();
        Task done;
        try
        {
            done = await Task.WhenAny(read, Run!).WaitAsync(Hang);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException("the auth loop did not reach a wait", e);
        }

        if (done == read)
        {
            return await read;
        }

        throw new InvalidOperationException($"the auth loop ended: {await Run!}");
    }

    /// <summary>Reads the next wait, checks its reason, and advances the clock past it.</summary>
    public async Task<AuthLoopWait> ElapseAsync(AuthWaitReason expected)
    {
        var wait = await NextWaitAsync();
        Assert.Equal(expected, wait.Reason);
        Time.Advance(wait.Delay);
        return wait;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (Run is not null)
        {
            await Run.WaitAsync(Hang);
        }

        _stop.Dispose();
        LoggerFactory.Dispose();
        Metrics.Dispose();
    }
}

/// <summary>An <see cref="IAuthMethod"/> that logs in at auth/test with a fixed body.</summary>
internal sealed class StubMethod(Func<LoginRequest>? prepare = null) : IAuthMethod
{
    public string Type => "approle";

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken) =>
        Task.FromResult(prepare?.Invoke() ?? LoginRequest.Login("auth/approle", new Dictionary<string, string> { ["role_id"] = "role" }));
}
