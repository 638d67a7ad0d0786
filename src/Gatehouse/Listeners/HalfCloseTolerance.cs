using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Listeners;

/// <summary>
/// Lets a client that sends its request and then shuts down its write side (<c>nc -N</c>, some scripts and health
/// checkers) still get its answer, as Vault and Vault Agent give it. Kestrel takes the client's FIN for the connection
/// closing and abandons the request at once; this connection middleware tells the HTTP layer only after a grace
/// period. Until then the request goes on and its answer is written; the HTTP layer still sees the end of input when it
/// reads for the next request, and closes the connection as usual. A client that has really gone is noticed when the
/// grace ends (its upstream request is then cancelled) or when an answer cannot be written, whichever comes first.
/// </summary>
internal static class HalfCloseTolerance
{
    /// <summary>How long requests in flight may go on after the client's FIN. Vault answers in milliseconds.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(10);

    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(TimeSpan grace, TimeProvider time) =>
        next => connection => next(new TolerantConnection(connection, grace, time));

    private sealed class TolerantConnection : ConnectionContext
    {
        private readonly ConnectionContext _inner;
        private readonly CancellationTokenSource _closed = new();
        private readonly CancellationTokenRegistration _finRegistration;
        private ITimer? _grace;

        public TolerantConnection(ConnectionContext inner, TimeSpan grace, TimeProvider time)
        {
            _inner = inner;
            Transport = inner.Transport;
            _finRegistration = inner.ConnectionClosed.UnsafeRegister(
                static state =>
                {
                    var (connection, grace, time) = ((TolerantConnection, TimeSpan, TimeProvider))state!;
                    connection.OnClientFinished(grace, time);
                },
                (this, grace, time));
        }

        public override string ConnectionId { get => _inner.ConnectionId; set => _inner.ConnectionId = value; }

        public override IFeatureCollection Features => _inner.Features;

        public override IDictionary<object, object?> Items { get => _inner.Items; set => _inner.Items = value; }

        public override IDuplexPipe Transport { get; set; }

        public override CancellationToken ConnectionClosed { get => _closed.Token; set => throw new NotSupportedException(); }

        public override System.Net.EndPoint? LocalEndPoint { get => _inner.LocalEndPoint; set => _inner.LocalEndPoint = value; }

        public override System.Net.EndPoint? RemoteEndPoint { get => _inner.RemoteEndPoint; set => _inner.RemoteEndPoint = value; }

        public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

        public override async ValueTask DisposeAsync()
        {
            await _finRegistration.DisposeAsync().ConfigureAwait(false);
            _grace?.Dispose();
            await _closed.CancelAsync().ConfigureAwait(false);
            _closed.Dispose();
            await _inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private void OnClientFinished(TimeSpan grace, TimeProvider time)
        {
            if (grace <= TimeSpan.Zero)
            {
                Close();
                return;
            }

            _grace = time.CreateTimer(static state => ((TolerantConnection)state!).Close(), this, grace, Timeout.InfiniteTimeSpan);
        }

        private void Close()
        {
            try
            {
                _closed.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The connection ended first.
            }
        }
    }
}
