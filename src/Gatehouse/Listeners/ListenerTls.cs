using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Listeners;

/// <summary>
/// A listener's TLS settings as Kestrel options. Every file is read at startup; a bad one stops startup. The server
/// certificate is served through <paramref name="certificate"/> so a SIGHUP can swap it without a restart.
/// </summary>
internal static class ListenerTls
{
    public static HttpsConnectionAdapterOptions CreateOptions(ListenerConfig config, string listenerName, out ListenerCertificate certificate)
    {
        if (string.IsNullOrEmpty(config.TlsCertFile))
        {
            throw new ListenerStartupException(
                $"{listenerName}: tls_cert_file is required for a TLS listener; set tls_cert_file and tls_key_file, or tls_disable = true");
        }

        if (config.TlsRequireAndVerifyClientCert && config.TlsDisableClientCerts)
        {
            throw new ListenerStartupException(
                $"{listenerName}: tls_disable_client_certs and tls_require_and_verify_client_cert are mutually exclusive");
        }

        var holder = certificate = new ListenerCertificate(LoadCertificate(config, listenerName));
        var options = new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => holder.Current,
            SslProtocols = Protocols(config, listenerName),
            CheckCertificateRevocation = false,
            ClientCertificateMode = config.TlsRequireAndVerifyClientCert ? ClientCertificateMode.RequireCertificate
                : config.TlsDisableClientCerts ? ClientCertificateMode.NoCertificate
                : ClientCertificateMode.AllowCertificate,
        };

        if (CipherSuites(config.TlsCipherSuites, listenerName) is { } policy)
        {
            options.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = policy;
        }

        if (config.TlsRequireAndVerifyClientCert && !string.IsNullOrEmpty(config.TlsClientCaFile))
        {
            var roots = LoadClientCas(config.TlsClientCaFile, listenerName);
            options.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, roots);
        }
        else if (!config.TlsRequireAndVerifyClientCert)
        {
            // As Vault: a certificate is requested but not verified unless tls_require_and_verify_client_cert is set.
#pragma warning disable CA5359
            options.ClientCertificateValidation = static (_, _, _) => true;
#pragma warning restore CA5359
        }

        return options;
    }

    /// <summary>Reads tls_cert_file (and tls_key_file); a problem throws <see cref="ListenerStartupException"/> naming the files.</summary>
    public static X509Certificate2 LoadCertificate(ListenerConfig config, string listenerName)
    {
        if (string.IsNullOrEmpty(config.TlsCertFile))
        {
            throw new ListenerStartupException(
                $"{listenerName}: tls_cert_file is required for a TLS listener; set tls_cert_file and tls_key_file, or tls_disable = true");
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(config.TlsCertFile!, string.IsNullOrEmpty(config.TlsKeyFile) ? null : config.TlsKeyFile);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ListenerStartupException(
                $"{listenerName}: cannot load the TLS certificate from tls_cert_file \"{config.TlsCertFile}\"" +
                (string.IsNullOrEmpty(config.TlsKeyFile) ? "" : $" and tls_key_file \"{config.TlsKeyFile}\"") + $": {exception.Message}",
                exception);
        }
    }

    private static X509Certificate2Collection LoadClientCas(string file, string listenerName)
    {
        try
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(file);
            return roots.Count > 0 ? roots : throw new CryptographicException("the file holds no PEM certificate");
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ListenerStartupException($"{listenerName}: cannot load tls_client_ca_file \"{file}\": {exception.Message}", exception);
        }
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        return chain.Build(certificate);
    }

    /// <summary>
    /// tls_cipher_suites as a policy (<see cref="TlsCipherSuites"/>'s rule, which the validator checks too); null when
    /// the setting is empty (the platform's defaults apply).
    /// </summary>
    internal static CipherSuitesPolicy? CipherSuites(string? value, string listenerName) =>
        !TlsCipherSuites.TryParse(value, out var suites, out var error)
            ? throw new ListenerStartupException($"{listenerName}: tls_cipher_suites: {error}")
            : suites is null || OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(suites);

    private static SslProtocols Protocols(ListenerConfig config, string listenerName)
    {
        var min = Version(config.TlsMinVersion ?? "tls12", "tls_min_version", listenerName);
        var max = Version(config.TlsMaxVersion ?? "tls13", "tls_max_version", listenerName);
        if (min > max)
        {
            throw new ListenerStartupException($"{listenerName}: tls_min_version is above tls_max_version");
        }

        var protocols = SslProtocols.None;
        for (var version = min; version <= max; version++)
        {
            protocols |= version switch
            {
#pragma warning disable SYSLIB0039, CA5397 // Old TLS versions only when the user asks for them, as Vault allows.
                10 => SslProtocols.Tls,
                11 => SslProtocols.Tls11,
#pragma warning restore SYSLIB0039, CA5397
                12 => SslProtocols.Tls12,
                _ => SslProtocols.Tls13,
            };
        }

        return protocols;
    }

    private static int Version(string value, string key, string listenerName) => value switch
    {
        "tls10" => 10,
        "tls11" => 11,
        "tls12" => 12,
        "tls13" => 13,
        _ => throw new ListenerStartupException($"{listenerName}: {key} \"{value}\" is not one of tls10, tls11, tls12, tls13"),
    };
}
