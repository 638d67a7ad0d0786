using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gatehouse.IntegrationTests.RealClients;

/// <summary>
/// Counts the connections every Kestrel server in this process accepts, by listening address, from Kestrel's own
/// <c>kestrel.active_connections</c> instrument (+1 per accepted connection). Server-side evidence, independent of
/// the client's own count, that a session stayed on one keep-alive connection.
/// </summary>
internal sealed class KestrelConnections : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _accepted = new(StringComparer.Ordinal);

    public KestrelConnections()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.Server.Kestrel" && instrument.Name == "kestrel.active_connections")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (value <= 0)
            {
                return;
            }

            string? address = null;
            object? port = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "server.address")
                {
                    address = tag.Value?.ToString();
                }
                else if (tag.Key == "server.port")
                {
                    port = tag.Value;
                }
            }

            if (address is not null)
            {
                _accepted.AddOrUpdate(Key(address, port), value, (_, n) => n + value);
            }
        });
        _listener.Start();
    }

    /// <summary>Connections accepted on the unix socket at <paramref name="socketPath"/>.</summary>
    public long Accepted(string socketPath) => _accepted.GetValueOrDefault(Key(socketPath, null));

    /// <summary>Connections accepted on the tcp listener at <paramref name="host"/>:<paramref name="port"/>.</summary>
    public long Accepted(string host, int port) => _accepted.GetValueOrDefault(Key(host, port));

    private static string Key(string address, object? port) => port is null ? address : $"{address}:{port}";

    public void Dispose() => _listener.Dispose();
}
