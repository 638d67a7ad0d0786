using System.Buffers;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The client's response body for a streamed answer to a request that carried the auto-auth token: every occurrence of
/// the token or its accessor is masked on the way out, even when it is split across writes. Bytes that could be the
/// start of a secret are held back until the next write settles it (a line-oriented stream such as
/// <c>sys/monitor</c> ends its writes in a newline, which starts no secret, so nothing is delayed), and are released by
/// <see cref="CompleteAsync"/>. Masking keeps lengths, so a Content-Length copied from Vault stays true.
/// </summary>
internal sealed class TokenMaskingStream : Stream
{
    private readonly Stream _inner;
    private readonly TokenGuard _guard;
    private readonly byte[] _held;
    private int _heldLength;

    public TokenMaskingStream(Stream inner, TokenGuard guard)
    {
        _inner = inner;
        _guard = guard;
        _held = new byte[guard.Secrets.Max(s => s.Length)];
    }

    /// <summary>The client's own response body, put back once the answer has been written.</summary>
    public Stream Inner => _inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        // Held bytes and the new ones are scanned as one run, so a secret split between writes is still found.
        var length = _heldLength + buffer.Length;
        var work = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            _held.AsSpan(0, _heldLength).CopyTo(work);
            buffer.Span.CopyTo(work.AsSpan(_heldLength));
            _guard.Mask(work, length);
            var hold = _guard.PartialMatchAtEnd(work.AsSpan(0, length));
            work.AsSpan(length - hold, hold).CopyTo(_held);
            _heldLength = hold;
            if (length > hold)
            {
                await _inner.WriteAsync(work.AsMemory(0, length - hold), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(work);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Releases held bytes: the answer ended, so they cannot become a secret.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_heldLength > 0)
        {
            var held = _held.AsMemory(0, _heldLength);
            _heldLength = 0;
            await _inner.WriteAsync(held, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A flush sends what is settled; held bytes stay back, or a secret could leave in two halves.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
