using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>The <c>vault</c> block and its <c>retry</c> block.</summary>
internal sealed partial class ConfigBinder
{
    /// <summary>The <c>vault</c> keys whose place <see cref="GatehouseConfig.Origins"/> keeps, as <c>vault.&lt;key&gt;</c>.</summary>
    private static readonly string[] VaultOriginKeys =
        ["address", "ca_cert", "ca_path", "client_cert", "client_key", "tls_skip_verify", "tls_server_name", "namespace"];

    /// <summary>The <c>vault.retry</c> keys whose place <see cref="GatehouseConfig.Origins"/> keeps, as <c>vault.retry.&lt;key&gt;</c>.</summary>
    private static readonly string[] RetryOriginKeys = ["num_retries", "unavailable_budget"];

    private VaultConfig BindVault(BlockEntry entry, ImmutableDictionary<string, SourcePosition>.Builder origins)
    {
        var r = Reader(entry.Body, "vault");
        int? numRetries = null;
        TimeSpan? unavailableBudget = null;
        var retryBlocks = Blocks(r, "retry");
        OnlyOne(retryBlocks, "vault.retry", "one and only one \"retry\" block is required");
        if (retryBlocks.Count > 0)
        {
            var retry = Reader(retryBlocks[0].Body, "vault.retry");
            numRetries = retry.Int("num_retries");
            unavailableBudget = retry.Duration("unavailable_budget");
            retry.AddOrigins(RetryOriginKeys, "vault.retry.", origins);

            retry.Finish();
        }

        r.AddOrigins(VaultOriginKeys, "vault.", origins);

        var vault = new VaultConfig
        {
            Address = r.String("address"),
            CaCert = r.String("ca_cert"),
            CaPath = r.String("ca_path"),
            ClientCert = r.String("client_cert"),
            ClientKey = r.String("client_key"),
            TlsSkipVerify = r.Bool("tls_skip_verify") ?? false,
            TlsServerName = r.String("tls_server_name"),
            Namespace = r.String("namespace"),
            NumRetries = numRetries,
            UnavailableRetryBudget = unavailableBudget,
        };
        r.Finish();
        return vault;
    }
}
