using Gatehouse.AutoAuth;

namespace Gatehouse.Sinks;

/// <summary>
/// Somewhere each new auto-auth token is written. <see cref="WriteAsync"/> throws <see cref="SinkWriteException"/>,
/// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> for a failed write; the sink server logs
/// it and retries with backoff.
/// </summary>
internal interface ITokenSink
{
    /// <summary>For logs: <c>file /run/app/token</c>. Never the token.</summary>
    string Name { get; }

    /// <summary>Fails fast at startup when the sink can never work (missing or read-only directory).</summary>
    void CheckWritable();

    Task WriteAsync(AutoAuthToken token, CancellationToken cancellationToken);
}

/// <summary>A sink write failed for a reason other than file I/O (wrapping refused, no DH public key yet).</summary>
internal sealed class SinkWriteException(string message) : Exception(message);

/// <summary>A sink can never work as configured; startup stops with this message.</summary>
internal sealed class SinkStartupException(string message, Exception? inner = null) : Exception(message, inner);
