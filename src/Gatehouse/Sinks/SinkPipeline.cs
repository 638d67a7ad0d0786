using System.Text;
using Gatehouse.AutoAuth;
using Gatehouse.Vault;

namespace Gatehouse.Sinks;

/// <summary>
/// One configured sink: what a token becomes before it lands in the file.
/// </summary>
/// <remarks>
/// 1. The value is the token, or the wrap-info JSON when the login was response-wrapped.
/// 2. With the sink's <c>wrap_ttl</c>: <c>sys/wrapping/wrap</c> with the token itself; the value becomes the wrap-info JSON.
/// 3. With <c>dh_type</c>: the value is encrypted into Vault's DH envelope.
/// 4. The file target writes it atomically.
/// </remarks>
internal sealed class SinkPipeline : ITokenSink
{
    private readonly FileSink _file;
    private readonly VaultClient? _wrapClient;
    private readonly TimeSpan? _wrapTtl;
    private readonly DhEncryptor? _dh;

    public SinkPipeline(FileSink file, TimeSpan? wrapTtl = null, VaultClient? wrapClient = null, DhEncryptor? dh = null)
    {
        if (wrapTtl is not null && wrapClient is null)
        {
            throw new ArgumentException("a wrapping sink needs a Vault client", nameof(wrapClient));
        }

        _file = file;
        _wrapTtl = wrapTtl;
        _wrapClient = wrapClient;
        _dh = dh;
        Name = $"file {file.Path}";
    }

    public string Name { get; }

    public FileSink File => _file;

    public void CheckWritable() => _file.CheckWritable();

    public async Task WriteAsync(AutoAuthToken token, CancellationToken cancellationToken)
    {
        // 1.
        var value = token.WrapInfoJson ?? token.Token;

        // 2. A wrapped login's wrap info is not wrapped again (the config forbids combining the two).
        if (_wrapTtl is { } ttl && token.WrapInfoJson is null)
        {
            var wrapped = await _wrapClient!.WrapAsync(token.Token, ttl, cancellationToken).ConfigureAwait(false);
            if (!wrapped.IsSuccess)
            {
                throw new SinkWriteException($"error wrapping the token for the sink: {wrapped.Error}");
            }

            value = wrapped.Secret?.WrapInfo is { Token.Length: > 0 } info
                ? info.ToJson()
                : throw new SinkWriteException("sys/wrapping/wrap answered without wrap_info");
        }

        // 3–4.
        var bytes = Encoding.UTF8.GetBytes(value);
        if (_dh is not null)
        {
            bytes = _dh.Encrypt(bytes);
        }

        await _file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}
