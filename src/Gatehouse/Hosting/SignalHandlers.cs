using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting.Systemd;

namespace Gatehouse.Hosting;

/// <summary>
/// SIGHUP reloads; SIGTERM and SIGINT stop gracefully. The default actions are cancelled (SIGHUP would otherwise end
/// the process). Reloads run one at a time off the signal thread; a SIGHUP during a reload queues one more, since
/// the files may have changed again. systemd hears RELOADING=1 then READY=1 around each reload, as Vault sends them
/// (the library's <see cref="ISystemdNotifier"/>; it sends READY=1 at start and STOPPING=1 at stop itself).
/// </summary>
internal sealed class SignalHandlers : IDisposable
{
    private readonly Func<CancellationToken, Task> _reload;
    private readonly Action? _stop;
    private static readonly ServiceState Reloading = new("RELOADING=1");

    private readonly ISystemdNotifier _systemd;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _pendingReloads;

    /// <param name="reload">Re-reads and applies the configuration; logs its own errors and keeps the old config on failure.</param>
    /// <param name="stop">
    /// Starts a graceful stop. Pass null when the Generic Host's console lifetime already handles SIGTERM/SIGINT.
    /// </param>
    public SignalHandlers(Func<CancellationToken, Task> reload, Action? stop, ISystemdNotifier systemd)
    {
        _reload = reload;
        _stop = stop;
        _systemd = systemd;
    }

    /// <summary>Registers with the runtime. Call once, after the host has started.</summary>
    public void Register()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal));
        if (_stop is not null)
        {
            _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
            _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        }
    }

    /// <summary>What a signal does; the returned task completes when a triggered reload has finished (for tests).</summary>
    public Task HandleAsync(PosixSignal signal)
    {
        switch (signal)
        {
            case PosixSignal.SIGHUP:
                return ReloadAsync();
            case PosixSignal.SIGTERM or PosixSignal.SIGINT:
                _stop?.Invoke();
                return Task.CompletedTask;
            default:
                return Task.CompletedTask;
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _disposed.Cancel();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _ = Task.Run(() => HandleAsync(context.Signal));
    }

    /// <summary>A notification systemd cannot take (it went away) must not stop a reload: it is dropped.</summary>
    private void Notify(ServiceState state)
    {
        try
        {
            _systemd.Notify(state);
        }
        catch (SocketException)
        {
        }
    }

    private async Task ReloadAsync()
    {
        // Coalesce: at most one reload running and one waiting.
        if (Interlocked.Increment(ref _pendingReloads) > 2)
        {
            Interlocked.Decrement(ref _pendingReloads);
            return;
        }

        await _reloadGate.WaitAsync(_disposed.Token).ConfigureAwait(false);
        try
        {
            Notify(Reloading);
            await _reload(_disposed.Token).ConfigureAwait(false);
        }
        finally
        {
            Notify(ServiceState.Ready);
            Interlocked.Decrement(ref _pendingReloads);
            _reloadGate.Release();
        }
    }
}
