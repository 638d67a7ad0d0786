using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>cf</c> (and its old name <c>pcf</c>): role (required), as Vault Agent/Proxy. At every login the Cloud Foundry
/// instance identity is read afresh from the files <c>CF_INSTANCE_CERT</c> and <c>CF_INSTANCE_KEY</c> name (Diego
/// rotates them), and <c>{role, cf_instance_cert, signing_time, signature}</c> is sent to <c>&lt;mount&gt;/login</c>:
/// signing_time is now (the injected clock) as <c>2006-01-02T15:04:05Z</c>, the signature
/// <c>v1:&lt;base64 RSA-PSS SHA-256&gt;</c> over signing_time + certificate file + role, as vault-plugin-auth-cf's
/// <c>signatures.Sign</c> makes it. The certificate is sent exactly as the file holds it; the key and signature are
/// never logged.
/// </summary>
internal sealed class CfMethod(MethodSettings settings, string mountPath, Func<string, string?> environment, TimeProvider time) : IAuthMethod
{
    public const string CertificateVariable = "CF_INSTANCE_CERT";

    public const string KeyVariable = "CF_INSTANCE_KEY";

    /// <summary>Go's layout <c>2006-01-02T15:04:05Z</c>, as the plugin's <c>signatures.TimeFormat</c>.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    private readonly string _role = settings.GetRequiredString("role");

    public string Type => "cf";

    /// <summary>What is signed: signing time, certificate and role, concatenated.</summary>
    public string ToSign(DateTimeOffset signingTime, string certificate) =>
        signingTime.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture) + certificate + _role;

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var certPath = environment(CertificateVariable);
        if (string.IsNullOrEmpty(certPath))
        {
            return LoginRequest.Failed($"missing \"{CertificateVariable}\" value (the Cloud Foundry instance certificate's path; set by Diego in every app instance)");
        }

        string certificate, keyPem;
        try
        {
            certificate = await File.ReadAllTextAsync(certPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return LoginRequest.Failed($"error reading {CertificateVariable} file {certPath}: {e.Message}");
        }

        var keyPath = environment(KeyVariable);
        if (string.IsNullOrEmpty(keyPath))
        {
            return LoginRequest.Failed($"missing \"{KeyVariable}\" value (the Cloud Foundry instance key's path; set by Diego in every app instance)");
        }

        try
        {
            keyPem = await File.ReadAllTextAsync(keyPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return LoginRequest.Failed($"error reading {KeyVariable} file {keyPath}: {e.Message}");
        }

        var signingTime = time.GetUtcNow();
        string signature;
        try
        {
            using var key = RSA.Create();
            key.ImportFromPem(keyPem);
            var bytes = key.SignData(Encoding.UTF8.GetBytes(ToSign(signingTime, certificate)), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            signature = "v1:" + Convert.ToBase64String(bytes);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // The exception's message never holds the key itself.
            return LoginRequest.Failed($"unable to decode RSA private key from {KeyVariable} file {keyPath}: {e.GetType().Name}");
        }

        return LoginRequest.Login(mountPath, new Dictionary<string, string>
        {
            ["role"] = _role,
            ["cf_instance_cert"] = certificate,
            ["signing_time"] = signingTime.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture),
            ["signature"] = signature,
        });
    }
}
