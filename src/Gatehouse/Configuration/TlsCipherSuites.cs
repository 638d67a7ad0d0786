using System.Net.Security;

namespace Gatehouse.Configuration;

/// <summary>
/// A listener's <c>tls_cipher_suites</c>: comma-separated Go/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, …),
/// one rule for the validator and for the listener that applies them. As in Go, the list restricts TLS 1.2 and older;
/// the TLS 1.3 suites stay enabled (Go does not let them be configured).
/// </summary>
internal static class TlsCipherSuites
{
    /// <summary>
    /// The suites to allow, or null when the setting is empty (the platform's defaults apply). False with a message
    /// for an unknown name, or on Windows, where .NET cannot restrict the suites.
    /// </summary>
    public static bool TryParse(string? value, out IReadOnlyList<TlsCipherSuite>? suites, out string error)
    {
        suites = null;
        error = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        var list = new List<TlsCipherSuite>
        {
            TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        };
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part switch
            {
                // Go's short names for the RFC 7905 suites.
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                _ => part,
            };
            if (!name.StartsWith("TLS_", StringComparison.Ordinal) || !Enum.TryParse<TlsCipherSuite>(name, ignoreCase: false, out var suite)
                || !Enum.IsDefined(suite))
            {
                error = $"unknown cipher suite \"{part}\"; use Go/IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
                return false;
            }

            if (!list.Contains(suite))
            {
                list.Add(suite);
            }
        }

        if (OperatingSystem.IsWindows())
        {
            error = "tls_cipher_suites is not supported on Windows; remove it to use the system's suites";
            return false;
        }

        suites = list;
        return true;
    }
}
