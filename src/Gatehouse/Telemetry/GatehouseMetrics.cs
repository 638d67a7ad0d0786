using System.Diagnostics.Metrics;

namespace Gatehouse.Telemetry;

/// <summary>
/// The "Gatehouse" meter and every instrument it publishes, declared once. Call sites call the methods here and never
/// build instrument names. Names follow Vault's (<c>vault.agent.auth.success</c>, …) so dashboards carry over.
/// </summary>
internal sealed class GatehouseMetrics : IDisposable
{
    public const string MeterName = "Gatehouse";

    private readonly Meter _meter;
    private readonly Counter<long> _agentAuthSuccess;
    private readonly Counter<long> _agentAuthFailure;
    private readonly Counter<long> _proxyAuthSuccess;
    private readonly Counter<long> _proxyAuthFailure;
    private readonly Counter<long> _sinkWriteFailure;

    public GatehouseMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        // Vault Agent and Vault Proxy name the same events differently; Gatehouse stands in for both, so it
        // records both twins and lets the dashboard pick.
        _agentAuthSuccess = _meter.CreateCounter<long>("vault.agent.auth.success", description: "Successful auto-auth logins and renewals.");
        _agentAuthFailure = _meter.CreateCounter<long>("vault.agent.auth.failure", description: "Failed auto-auth steps (login, lookup, renewal).");
        _proxyAuthSuccess = _meter.CreateCounter<long>("vault.proxy.auth.success", description: "Successful auto-auth logins and renewals.");
        _proxyAuthFailure = _meter.CreateCounter<long>("vault.proxy.auth.failure", description: "Failed auto-auth steps (login, lookup, renewal).");
        _sinkWriteFailure = _meter.CreateCounter<long>("gatehouse.sink.write.failure", description: "Failed token sink writes (each is retried).");
    }

    /// <summary>A login or a renewal of the auto-auth token succeeded.</summary>
    public void AuthSucceeded()
    {
        _agentAuthSuccess.Add(1);
        _proxyAuthSuccess.Add(1);
    }

    /// <summary>An auto-auth step failed (login, lookup, unwrap, renewal).</summary>
    public void AuthFailed()
    {
        _agentAuthFailure.Add(1);
        _proxyAuthFailure.Add(1);
    }

    /// <summary>A sink failed to write a token; it will retry.</summary>
    public void SinkWriteFailed() => _sinkWriteFailure.Add(1);

    public void Dispose() => _meter.Dispose();
}
