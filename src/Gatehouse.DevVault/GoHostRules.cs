using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.DevVault;

/// <summary>
/// Go's net/http rules for the Host header, applied to every HTTP/1.x request head before Kestrel reads it, because
/// Kestrel refuses the same requests itself (an empty 400) before any application code runs:
/// <list type="bullet">
/// <item>more than one Host header: Go's plain <c>400 Bad Request</c> (request.go, "too many Host headers");</item>
/// <item>HTTP/1.1 without Host: <c>400 Bad Request: missing required Host header</c> (server.go);</item>
/// <item>CONNECT needs no Host in Go, so an empty Host line is added for Kestrel, which then lets DevVault answer.</item>
/// </list>
/// Go writes such an answer in plain text, with no Date and no length, and closes the connection; so does this.
/// Everything else passes through unchanged. The bytes are copied through a pipe to Kestrel, following each
/// request's framing (Content-Length or chunked) to find the next head; a head it cannot parse, an upgrade, or
/// HTTP/2 (its preface, <c>PRI * HTTP/2.0</c>, comes first, also after ALPN) is passed through untouched for the
/// rest of the connection, and Kestrel decides.
/// </summary>
internal static class GoHostRules
{
    private const int MaxHead = 64 * 1024; // beyond Kestrel's 32 KiB header limit: Kestrel refuses it, not us
    private const string ErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";

    /// <summary>For <c>ListenOptions.Use</c>, after <c>UseHttps</c> so it sees plain text.</summary>
    public static ConnectionDelegate Apply(ConnectionDelegate next) => connection => RunAsync(next, connection);

    private static async Task RunAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        var transport = connection.Transport;
        var toKestrel = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var output = new HeldCompletionWriter(transport.Output);
        connection.Transport = new DuplexPipe(toKestrel.Reader, output);
        using var stop = new CancellationTokenSource();
        var pump = PumpAsync(transport.Input, toKestrel.Writer, stop.Token);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            // Kestrel is done with the connection (it answered everything before a refused head, or closed it).
            await stop.CancelAsync().ConfigureAwait(false);
            transport.Input.CancelPendingRead();
            var refusal = await pump.ConfigureAwait(false);
            if (refusal is not null)
            {
                try
                {
                    await transport.Output.WriteAsync(Encoding.ASCII.GetBytes(refusal), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or ConnectionAbortedException)
                {
                    // The client went away first.
                }
            }
            connection.Transport = transport;
            await output.CompleteHeldAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Copies the client's bytes to Kestrel head by head. Returns Go's refusal to send, if a head was refused.</summary>
    private static async Task<string?> PumpAsync(PipeReader input, PipeWriter toKestrel, CancellationToken stop)
    {
        var framing = new Framing();
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(stop).ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    return null;
                }
                var buffer = result.Buffer;
                var refusal = framing.Copy(ref buffer, toKestrel, result.IsCompleted);
                input.AdvanceTo(buffer.Start, result.Buffer.End);
                var flushed = await toKestrel.FlushAsync(stop).ConfigureAwait(false); // the requests before a refused one too
                if (refusal is not null)
                {
                    return refusal; // Kestrel gets no more bytes: it finishes what it has, sees the end, and returns
                }
                if (result.IsCompleted || flushed.IsCompleted)
                {
                    return null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            failure = e;
            return null;
        }
        finally
        {
            await toKestrel.CompleteAsync(failure).ConfigureAwait(false);
        }
    }

    /// <summary>Where the byte stream is: in a head, a sized body, a chunked body, or past following.</summary>
    private sealed class Framing
    {
        private enum State { Head, Sized, ChunkSize, ChunkData, ChunkDataEnd, Trailer, PassThrough }

        private State _state = State.Head;
        private long _left;

        /// <summary>Forwards what it can of <paramref name="buffer"/> and leaves the unread rest in it.</summary>
        public string? Copy(ref ReadOnlySequence<byte> buffer, PipeWriter to, bool isLast)
        {
            while (!buffer.IsEmpty)
            {
                switch (_state)
                {
                    case State.PassThrough:
                        Forward(ref buffer, buffer.Length, to);
                        break;
                    case State.Sized:
                    case State.ChunkData:
                        var n = Math.Min(_left, buffer.Length);
                        Forward(ref buffer, n, to);
                        _left -= n;
                        if (_left == 0)
                        {
                            _state = _state == State.Sized ? State.Head : State.ChunkDataEnd;
                        }
                        break;
                    case State.Head:
                        if (!TryHead(ref buffer, to, isLast, out var refusal))
                        {
                            return null; // more bytes needed
                        }
                        if (refusal is not null)
                        {
                            return refusal;
                        }
                        break;
                    default:
                        if (!TryLine(ref buffer, to))
                        {
                            return null;
                        }
                        break;
                }
            }
            return null;
        }

        /// <summary>One line of chunked framing: a chunk size, the CRLF after chunk data, or a trailer line.</summary>
        private bool TryLine(ref ReadOnlySequence<byte> buffer, PipeWriter to)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                if (buffer.Length > MaxHead)
                {
                    _state = State.PassThrough;
                    return true;
                }
                return false;
            }
            var text = Encoding.ASCII.GetString(line).TrimEnd('\r');
            switch (_state)
            {
                case State.ChunkSize:
                    var semi = text.IndexOf(';', StringComparison.Ordinal);
                    if (!long.TryParse(semi < 0 ? text.Trim() : text[..semi].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var size) || size < 0)
                    {
                        _state = State.PassThrough; // malformed: Kestrel will say so
                    }
                    else if (size == 0)
                    {
                        _state = State.Trailer;
                    }
                    else
                    {
                        _state = State.ChunkData;
                        _left = size;
                    }
                    break;
                case State.ChunkDataEnd:
                    _state = State.ChunkSize;
                    break;
                case State.Trailer:
                    if (text.Length == 0)
                    {
                        _state = State.Head;
                    }
                    break;
            }
            Forward(ref buffer, reader.Consumed, to);
            return true;
        }

        private bool TryHead(ref ReadOnlySequence<byte> buffer, PipeWriter to, bool isLast, out string? refusal)
        {
            refusal = null;
            var reader = new SequenceReader<byte>(buffer);
            var lines = new List<string>();
            // A head ends at its first empty line; empty lines before the request line are skipped, as RFC 9112 allows.
            while (true)
            {
                if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
                {
                    if (buffer.Length > MaxHead || isLast)
                    {
                        _state = State.PassThrough;
                        return true;
                    }
                    return false;
                }
                var line = Encoding.Latin1.GetString(raw).TrimEnd('\r');
                if (line.Length == 0)
                {
                    if (lines.Count == 0)
                    {
                        continue;
                    }
                    break;
                }
                lines.Add(line);
            }
            var head = buffer.Slice(0, reader.Position);

            var requestLine = lines[0].Split(' ');
            if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                _state = State.PassThrough; // HTTP/2's preface, HTTP/0.9, or garbage: Kestrel decides
                Forward(ref buffer, head.Length, to);
                return true;
            }
            var method = requestLine[0];
            var http11 = requestLine[2] != "HTTP/1.0";
            int hosts = 0;
            long? length = null;
            var chunked = false;
            var passThrough = false;
            foreach (var field in lines.Skip(1))
            {
                var colon = field.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    passThrough = true; // obs-fold or garbage: Kestrel refuses it
                    continue;
                }
                var name = field[..colon];
                var value = field[(colon + 1)..].Trim();
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
                {
                    hosts++;
                }
                else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    if (!long.TryParse(value, System.Globalization.NumberStyles.None, null, out var n) || (length is { } seen && seen != n))
                    {
                        passThrough = true;
                    }
                    length = n;
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
                    passThrough |= !chunked;
                }
                else if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    passThrough = true; // after a 101 the bytes are not HTTP/1 any more
                }
            }

            if (hosts > 1)
            {
                refusal = "HTTP/1.1 400 Bad Request" + ErrorHeaders + "400 Bad Request";
                return true;
            }
            var addHost = false;
            if (hosts == 0 && http11)
            {
                if (method != "CONNECT")
                {
                    const string missing = "400 Bad Request: missing required Host header";
                    refusal = "HTTP/1.1 " + missing + ErrorHeaders + missing;
                    return true;
                }
                addHost = true;
            }

            if (addHost)
            {
                var firstLineEnd = head.PositionOf((byte)'\n')!.Value;
                var firstLine = head.Slice(0, head.GetPosition(1, firstLineEnd));
                Write(to, firstLine);
                to.Write("Host: \r\n"u8);
                Write(to, head.Slice(firstLine.End));
                buffer = buffer.Slice(head.End);
            }
            else
            {
                Forward(ref buffer, head.Length, to);
            }
            (_state, _left) = passThrough ? (State.PassThrough, 0L)
                : chunked ? (State.ChunkSize, 0L)
                : length is > 0 ? (State.Sized, length.Value)
                : (State.Head, 0L);
            return true;
        }

        private static void Forward(ref ReadOnlySequence<byte> buffer, long count, PipeWriter to)
        {
            Write(to, buffer.Slice(0, count));
            buffer = buffer.Slice(count);
        }

        private static void Write(PipeWriter to, ReadOnlySequence<byte> bytes)
        {
            foreach (var segment in bytes)
            {
                to.Write(segment.Span);
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>The transport's writer, except that Kestrel's Complete waits until a refusal has been written after it.</summary>
    private sealed class HeldCompletionWriter(PipeWriter inner) : PipeWriter
    {
        private Exception? _completion;
        private bool _completed;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(source, cancellationToken);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Complete(Exception? exception = null)
        {
            _completed = true;
            _completion = exception;
        }

        public async ValueTask CompleteHeldAsync()
        {
            if (_completed)
            {
                await inner.CompleteAsync(_completion).ConfigureAwait(false);
            }
        }
    }
}
