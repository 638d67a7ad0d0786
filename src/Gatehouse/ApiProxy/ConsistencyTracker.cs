using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.ApiProxy;

/// <summary>
/// <c>api_proxy.enforce_consistency = "always"</c>: remembers the newest <c>X-Vault-Index</c> Vault sent and adds it to
/// later requests that carry no consistency header of their own, so a client reads its own writes across performance
/// standbys. The index is opaque to Gatehouse: the most recently received one wins (Vault's agent merges the states
/// by cluster; a single-cluster upstream gives the same result). Lock-free: one volatile reference.
/// </summary>
internal sealed class ConsistencyTracker
{
    public const string ForwardActiveNode = "forward-active-node";

    private readonly bool _enabled;
    private readonly bool _forward;
    private string? _newest;

    public ConsistencyTracker(EnforceConsistency enforce, WhenInconsistent whenInconsistent)
    {
        _enabled = enforce == EnforceConsistency.Always;
        _forward = whenInconsistent == WhenInconsistent.Forward;
    }

    public bool Enabled => _enabled;

    /// <summary>The newest index seen, or null.</summary>
    public string? Newest => Volatile.Read(ref _newest);

    /// <summary>Request shaping: adds the remembered index (and the forward header) unless the client chose its own.</summary>
    public void Apply(IHeaderDictionary headers)
    {
        if (!_enabled || Newest is not { } index
            || headers.ContainsKey(VaultHeaders.Index) || headers.ContainsKey(VaultHeaders.Forward) || headers.ContainsKey(VaultHeaders.Inconsistent))
        {
            return;
        }

        headers[VaultHeaders.Index] = index;
        if (_forward)
        {
            headers[VaultHeaders.Inconsistent] = ForwardActiveNode;
        }
    }

    /// <summary>Remembers the index from one of Vault's answers.</summary>
    public void Observe(HttpResponseMessage response)
    {
        if (_enabled && response.Headers.TryGetValues(VaultHeaders.Index, out var values))
        {
            foreach (var value in values)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    Volatile.Write(ref _newest, value);
                }
            }
        }
    }
}
