using System.Collections.Concurrent;

namespace Gatehouse.DevVault;

/// <summary>In-process fault injection for tests (never reachable over HTTP).</summary>
public sealed class DevVaultFaults
{
    private readonly ConcurrentDictionary<(string Method, string Path), long> _counts = new();
    private readonly ConcurrentQueue<RoutedRequest> _routed = new();
    private readonly ConcurrentQueue<ArrivedRequest> _arrived = new();
    private readonly object _failLock = new();
    private readonly List<RequestWaiter> _waiters = [];
    private long _requestCount;
    private int _failRemaining;
    private int _failStatus;
    private string? _failMessage;

    internal DevVaultServer? Server { get; set; }
    internal VaultCore? Core { get; set; }

    /// <summary>Seals the server, as <c>PUT sys/seal</c> would.</summary>
    public void Seal() => Core!.Sealed = true;

    /// <summary>Unseals the server without the key.</summary>
    public void Unseal() => Core!.Sealed = false;

    /// <summary>
    /// Delays every response. Uses real time (Task.Delay), not the server's TimeProvider, so that a
    /// FakeTimeProvider that tests advance by hand never blocks HTTP.
    /// </summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Answers the next <paramref name="count"/> requests with the status and <c>{"errors":[message]}</c>.</summary>
    public void FailNext(int count, int statusCode, string? errorMessage = null)
    {
        lock (_failLock)
        {
            _failRemaining = count;
            _failStatus = statusCode;
            _failMessage = errorMessage;
        }
    }

    /// <summary>Ends every open event WebSocket with a normal close, as a Vault node going away does; clients may reconnect.</summary>
    public void DropEventStreams() => Core!.CloseEventStreams();

    /// <summary>Aborts every connection without a response while true.</summary>
    public bool DropConnections { get; set; }

    /// <summary>Stops listening (connections are refused) while keeping all state.</summary>
    public Task StopListenerAsync() => Server!.StopListenerAsync();

    /// <summary>Starts listening again on the same address and port.</summary>
    public Task RestartListenerAsync() => Server!.RestartListenerAsync();

    /// <summary>Total requests seen, including those answered by faults.</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>Requests seen with this method whose path (e.g. "/v1/auth/approle/login") starts with the prefix.</summary>
    public long CountRequests(string method, string pathPrefix) =>
        _counts.Where(kv => string.Equals(kv.Key.Method, method, StringComparison.OrdinalIgnoreCase) && kv.Key.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>
    /// Completes when <see cref="CountRequests"/> for this method and path prefix reaches <paramref name="count"/> (at
    /// once if it already has): the request has arrived and been counted, before its response is written. Tests await
    /// this instead of polling.
    /// </summary>
    public Task WaitForRequestsAsync(string method, string pathPrefix, long count, CancellationToken cancellationToken = default)
    {
        var waiter = new RequestWaiter(method, pathPrefix, count);
        lock (_waiters)
        {
            if (CountRequests(method, pathPrefix) >= count)
            {
                return Task.CompletedTask;
            }

            _waiters.Add(waiter);
        }

        return waiter.Seen.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Every request Vault routed to a handler, in arrival order: its path as Vault routes it (decoded, cleaned, below
    /// <c>/v1/</c>), its operation, its namespace header and the token it carried. Requests answered before routing
    /// (ServeMux's 301 for an unclean path, a 400 for a bad escape, faults) are not here. Kept only while
    /// <see cref="RecordRequests"/> is on.
    /// </summary>
    public IReadOnlyList<RoutedRequest> RoutedRequests => [.. _routed];

    internal void Route(RoutedRequest request)
    {
        if (RecordRequests)
        {
            _routed.Enqueue(request);
        }
    }

    /// <summary>
    /// Keeps <see cref="ArrivedRequests"/> and <see cref="RoutedRequests"/> while true. Off by default: a long-running
    /// <c>gatehouse dev</c> server must not keep every request.
    /// </summary>
    public bool RecordRequests { get; set; }

    /// <summary>
    /// Every request that reached DevVault, in arrival order, before anything answers it (faults, 400, 404, ServeMux's
    /// 301 included): its method, its request-target as sent and the token it carried. A token that never appears here
    /// never reached Vault. Kept only while <see cref="RecordRequests"/> is on.
    /// </summary>
    public IReadOnlyList<ArrivedRequest> ArrivedRequests => [.. _arrived];

    internal void Arrive(ArrivedRequest request)
    {
        if (RecordRequests)
        {
            _arrived.Enqueue(request);
        }
    }

    internal void Count(string method, string path)
    {
        Interlocked.Increment(ref _requestCount);
        _counts.AddOrUpdate((method, path), 1, static (_, n) => n + 1);
        lock (_waiters)
        {
            if (_waiters.Count == 0)
            {
                return;
            }

            _waiters.RemoveAll(w =>
            {
                if (!string.Equals(w.Method, method, StringComparison.OrdinalIgnoreCase)
                    || !path.StartsWith(w.PathPrefix, StringComparison.Ordinal)
                    || CountRequests(w.Method, w.PathPrefix) < w.Count)
                {
                    return false;
                }

                w.Seen.TrySetResult();
                return true;
            });
        }
    }

    internal bool TryTakeFailure(out int status, out string? message)
    {
        status = 0;
        message = null;
        if (Volatile.Read(ref _failRemaining) <= 0)
        {
            return false;
        }
        lock (_failLock)
        {
            if (_failRemaining <= 0)
            {
                return false;
            }
            _failRemaining--;
            status = _failStatus;
            message = _failMessage;
            return true;
        }
    }

    private sealed record RequestWaiter(string Method, string PathPrefix, long Count)
    {
        public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// One request as Vault routed it. <paramref name="Path"/> is below <c>/v1/</c>, decoded and cleaned, without the
/// trailing slash Vault adds for a list; <paramref name="Operation"/> is Vault's (read, list, update, delete, header,
/// options); <paramref name="Namespace"/> is the <c>X-Vault-Namespace</c> header as sent (empty when none).
/// </summary>
public sealed record RoutedRequest(string Method, string Operation, string Path, string Namespace, string? Token);

/// <summary>One request as it reached Vault: <paramref name="Target"/> is the request-target as sent, not decoded.</summary>
public sealed record ArrivedRequest(string Method, string Target, string? Token);
