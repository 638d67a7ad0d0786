using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// The token source of the azure method with <c>authenticate_from_environment = true</c>: Vault Agent calls the Go
/// SDK's <c>NewDefaultAzureCredential</c> and <c>GetToken(scope)</c>. Gatehouse builds the same chain, in Go's order,
/// from Azure.Identity's credentials with the environment it was given: the environment credential (client secret
/// <c>AZURE_TENANT_ID</c> + <c>AZURE_CLIENT_ID</c> + <c>AZURE_CLIENT_SECRET</c>, else a client certificate
/// <c>AZURE_CLIENT_CERTIFICATE_PATH</c> with <c>AZURE_CLIENT_CERTIFICATE_PASSWORD</c> and
/// <c>AZURE_CLIENT_SEND_CERTIFICATE_CHAIN</c>), workload identity (<c>AZURE_FEDERATED_TOKEN_FILE</c> +
/// <c>AZURE_CLIENT_ID</c> + <c>AZURE_TENANT_ID</c>: the AKS federated token as a client assertion), then the SDK's own
/// managed identity, Azure CLI and Azure Developer CLI credentials. <c>AZURE_AUTHORITY_HOST</c> moves the Entra ID
/// authority for every one of them. A new chain is built at every login (as Vault Agent does), so a rotated federated
/// token file or secret is used at the next login and no token is cached between logins.
/// </summary>
internal static class AzureEnvironmentCredential
{
    /// <summary>Builds the chain; <paramref name="transport"/> replaces Azure.Core's HTTP transport (tests: one that trusts a test CA).</summary>
    public static TokenCredential Create(Func<string, string?> environment, HttpPipelineTransport? transport)
    {
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;
        var authority = Env("AZURE_AUTHORITY_HOST") is { } host ? new Uri(host) : AzureAuthorityHosts.AzurePublicCloud;

        T With<T>(T options)
            where T : TokenCredentialOptions
        {
            options.AuthorityHost = authority;
            // The auth loop's backoff (on the injected clock) decides when to try again, not Azure.Core's retry delays.
            options.Retry.MaxRetries = 0;
            if (transport is not null)
            {
                options.Transport = transport;
            }

            return options;
        }

        var tenant = Env("AZURE_TENANT_ID");
        var client = Env("AZURE_CLIENT_ID");
        var chain = new List<TokenCredential>();
        if (tenant is not null && client is not null)
        {
            if (Env("AZURE_CLIENT_SECRET") is { } secret)
            {
                chain.Add(new ClientSecretCredential(tenant, client, secret, With(new ClientSecretCredentialOptions())));
            }
            else if (Env("AZURE_CLIENT_CERTIFICATE_PATH") is { } certificatePath)
            {
                var options = With(new ClientCertificateCredentialOptions
                {
                    SendCertificateChain = Env("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") is "1" or "true" or "TRUE" or "True",
                });
                chain.Add(Env("AZURE_CLIENT_CERTIFICATE_PASSWORD") is { } password
                    ? new ClientCertificateCredential(tenant, client, X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password), options)
                    : new ClientCertificateCredential(tenant, client, certificatePath, options));
            }

            if (Env("AZURE_FEDERATED_TOKEN_FILE") is { } tokenFile)
            {
                chain.Add(new WorkloadIdentityCredential(With(new WorkloadIdentityCredentialOptions
                {
                    TenantId = tenant,
                    ClientId = client,
                    TokenFilePath = tokenFile,
                })));
            }
        }

        // The rest of Go's chain (managed identity, Azure CLI, Azure Developer CLI), as the .NET SDK does them.
        chain.Add(new DefaultAzureCredential(With(new DefaultAzureCredentialOptions
        {
            ExcludeEnvironmentCredential = true,
            ExcludeWorkloadIdentityCredential = true,
            ExcludeVisualStudioCredential = true,
            ExcludeVisualStudioCodeCredential = true,
            ExcludeAzurePowerShellCredential = true,
            ExcludeInteractiveBrowserCredential = true,
            ExcludeBrokerCredential = true,
            ManagedIdentityClientId = client,
        })));
        return new ChainedTokenCredential([.. chain]);
    }
}

/// <summary>
/// Azure.Core's HTTP transport for the azure method's environment credentials, when a host registers one (tests do,
/// to trust their Entra ID emulator's certificate); Azure.Core's default transport otherwise.
/// </summary>
internal sealed record AzureIdentityTransport(HttpPipelineTransport Transport);
