using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Telemetry;

/// <summary>
/// One push destination (<c>statsd_address</c>, <c>statsite_address</c> or <c>dogstatsd_addr</c>): lines are packed into
/// packets as go-metrics packs them (statsd: up to 1,400 bytes, each line ending in a newline; dogstatsd: up to 1,432
/// bytes, lines separated by a newline, or 8,192 on a <c>unix://</c> datagram socket; statsite: 4,096-byte writes on one
/// TCP connection), and a packet is closed when
/// the next line would not fit or at the end of each flush. Closed packets wait in a bounded queue for
/// <see cref="RunAsync"/>, which sends them (UDP for statsd and dogstatsd, TCP for statsite). Nothing here ever blocks
/// the caller: a full queue drops the packet and counts it. A failed send is counted, logged once until sending works
/// again, and, as go-metrics does, the sink waits 5 seconds (dropping what arrives) before it connects again.
/// </summary>
internal sealed partial class PushSink
{
    public const int StatsdMaxPacket = 1400;
    public const int DogstatsdMaxPacket = 1432;
    public const int StatsiteMaxWrite = 4096;

    /// <summary>datadog-go's buffer size on a Unix datagram socket.</summary>
    public const int DogstatsdUnixMaxPacket = 8192;

    /// <summary>datadog-go's prefix for a Unix datagram socket address (<c>unix:///var/run/datadog/dsd.socket</c>).</summary>
    public const string UnixPrefix = "unix://";

    /// <summary>Packets waiting to be sent; more are dropped (and counted).</summary>
    public const int QueuedPackets = 256;

    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private readonly Channel<byte[]> _packets;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxPacket;
    private readonly ArrayBufferWriter<byte> _packet;
    private Socket? _socket;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private bool _failing;
    private long _failures;
    private long _dropped;

    public PushSink(PushProtocol protocol, string address, TimeProvider time, ILogger logger)
    {
        Protocol = protocol;
        Address = address;
        _time = time;
        _logger = logger;
        _maxPacket = protocol switch
        {
            PushProtocol.Statsd => StatsdMaxPacket,
            PushProtocol.Dogstatsd when address.StartsWith(UnixPrefix, StringComparison.Ordinal) => DogstatsdUnixMaxPacket,
            PushProtocol.Dogstatsd => DogstatsdMaxPacket,
            _ => StatsiteMaxWrite,
        };
        _packet = new ArrayBufferWriter<byte>(_maxPacket);
        _packets = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(QueuedPackets) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public PushProtocol Protocol { get; }

    public string Address { get; }

    /// <summary>The label value of this sink in <c>vault.gatehouse.metrics.push_*</c>: statsd, statsite or dogstatsd.</summary>
    public string Name => Protocol.ToString().ToLowerInvariant();

    /// <summary>Sends that failed (connect or write).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Packets dropped: queue full, or arrived while waiting to connect again after a failure.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Adds one line to the open packet. Called by one flush at a time.</summary>
    public void Append(string line)
    {
        bool separate = Protocol == PushProtocol.Dogstatsd && _packet.WrittenCount > 0;
        int size = Encoding.UTF8.GetByteCount(line) + (separate ? 1 : 0);
        if (_packet.WrittenCount > 0 && _packet.WrittenCount + size > _maxPacket)
        {
            ClosePacket();
            separate = false;
        }

        if (separate)
        {
            _packet.Write("\n"u8);
        }

        int written = Encoding.UTF8.GetBytes(line, _packet.GetSpan(Encoding.UTF8.GetByteCount(line)));
        _packet.Advance(written);
    }

    /// <summary>Queues the open packet for sending (go-metrics sends what it holds at each 100 ms tick).</summary>
    public void ClosePacket()
    {
        if (_packet.WrittenCount == 0)
        {
            return;
        }

        _packets.Writer.TryWrite(_packet.WrittenSpan.ToArray());
        _packet.ResetWrittenCount();
    }

    /// <summary>No more packets: <see cref="RunAsync"/> ends once the queue is empty.</summary>
    public void Complete() => _packets.Writer.TryComplete();

    /// <summary>Sends queued packets until <see cref="Complete"/> or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (byte[] packet in _packets.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await SendAsync(packet, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    /// <summary>Sends what is queued now, then returns: what <see cref="RunAsync"/> does, one step at a time (tests).</summary>
    public async Task SendQueuedAsync(CancellationToken cancellationToken)
    {
        while (_packets.Reader.TryRead(out byte[]? packet))
        {
            await SendAsync(packet, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(byte[] packet, CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() < _retryAt)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        try
        {
            _socket ??= await ConnectAsync(cancellationToken).ConfigureAwait(false);
            int sent = 0;
            while (sent < packet.Length)
            {
                sent += await _socket.SendAsync(packet.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            if (_failing)
            {
                _failing = false;
                Log.SendingAgain(_logger, Name, Address);
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException or FormatException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Interlocked.Increment(ref _failures);
            _socket?.Dispose();
            _socket = null;
            _retryAt = _time.GetUtcNow() + RetryAfterFailure;
            if (!_failing)
            {
                _failing = true;
                Log.SendFailed(_logger, Name, Address, exception.Message);
            }
        }
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Address.StartsWith(UnixPrefix, StringComparison.Ordinal))
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            try
            {
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(Address[UnixPrefix.Length..]), cancellationToken).ConfigureAwait(false);
                return unix;
            }
            catch
            {
                unix.Dispose();
                throw;
            }
        }

        if (!TrySplitAddress(Address, out string host, out int port))
        {
            throw new FormatException($"\"{Address}\" is not host:port");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RetryAfterFailure);
        IPAddress[] addresses = host.Length == 0 ? [IPAddress.Loopback]
            : IPAddress.TryParse(host, out var literal) ? [literal]
            : await Dns.GetHostAddressesAsync(host, timeout.Token).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var endPoint = new IPEndPoint(addresses[0], port);
        var socket = Protocol == PushProtocol.Statsite
            ? new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>host:port</c> or <c>[v6]:port</c> as Go's net.Dial takes it, with a numeric port; an empty host is this
    /// machine. The configuration binder reports an address this refuses.
    /// </summary>
    public static bool TrySplitAddress(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 literal needs its brackets ("::1:8125" is ambiguous), as net.Dial says "too many colons".
            return false;
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.PushSinkSendFailed, LogLevel.Warning, "cannot send metrics to {Sink} at {Address}: {Reason}; metrics are dropped for 5s, then sending is tried again (failures are counted in vault.gatehouse.metrics.push_failures and not logged again until sending works)")]
        public static partial void SendFailed(ILogger logger, string sink, string address, string reason);

        [LoggerMessage(LogEvents.PushSinkSendingAgain, LogLevel.Information, "sending metrics to {Sink} at {Address} again")]
        public static partial void SendingAgain(ILogger logger, string sink, string address);
    }
}
