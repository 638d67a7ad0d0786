using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// Where oci's <c>type = "apikey"</c> finds its API key, as Vault Agent composes the OCI Go SDK's providers: first the
/// environment (<c>OCI_tenancy_ocid</c>, <c>OCI_user_ocid</c>, <c>OCI_fingerprint</c>, <c>OCI_private_key_path</c>),
/// then the <c>[DEFAULT]</c> profile of <c>~/.oci/config</c> (or of <c>OCI_CONFIG_FILE</c> when <c>~/.oci/config</c>
/// does not exist), then <c>~/.oraclebmc/config</c>. The key id and the private key are each taken from the first
/// source that has them. Files are read afresh at every call, so a rotated key is seen at once.
/// </summary>
internal sealed class OciApiKeyConfiguration(Func<string, string?> environment)
{
    public const string ConfigFileVariable = "OCI_CONFIG_FILE";
    public const string Profile = "DEFAULT";

    /// <summary>The user's home: <c>HOME</c>, else the platform's profile folder (Vault Agent asks the passwd entry).</summary>
    public string Home => environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>
    /// The SDK's default file: <c>~/.oci/config</c> when it exists; otherwise <c>OCI_CONFIG_FILE</c> when it names a
    /// file that exists; otherwise <c>~/.oci/config</c>.
    /// </summary>
    public string DefaultConfigFile
    {
        get
        {
            var standard = Path.Combine(Home, ".oci", "config");
            if (File.Exists(standard))
            {
                return standard;
            }

            return environment(ConfigFileVariable) is { Length: > 0 } other && File.Exists(other) ? other : standard;
        }
    }

    public string SecondaryConfigFile => Path.Combine(Home, ".oraclebmc", "config");

    /// <summary><c>&lt;tenancy&gt;/&lt;user&gt;/&lt;fingerprint&gt;</c> from the first source that has all three.</summary>
    public async Task<(string? KeyId, string? Error)> KeyIdAsync(CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        var tenancy = environment("OCI_tenancy_ocid");
        var user = environment("OCI_user_ocid");
        var fingerprint = environment("OCI_fingerprint");
        if (tenancy is { Length: > 0 } && user is { Length: > 0 } && fingerprint is { Length: > 0 })
        {
            return ($"{tenancy}/{user}/{fingerprint}", null);
        }

        reasons.Add("environment: OCI_tenancy_ocid, OCI_user_ocid and OCI_fingerprint are not all set");
        foreach (var file in new[] { DefaultConfigFile, SecondaryConfigFile })
        {
            var (profile, error) = await ReadProfileAsync(file, cancellationToken).ConfigureAwait(false);
            if (profile is null)
            {
                reasons.Add(error!);
                continue;
            }

            var missing = new[] { "tenancy", "user", "fingerprint" }.Where(k => !profile.TryGetValue(k, out var v) || v.Length == 0).ToList();
            if (missing.Count == 0)
            {
                return ($"{profile["tenancy"]}/{profile["user"]}/{profile["fingerprint"]}", null);
            }

            reasons.Add($"{file}: [{Profile}] has no {string.Join(", ", missing)}");
        }

        return (null, "did not find a proper configuration for key id (" + string.Join("; ", reasons) + "); write tenancy, user, " +
            $"fingerprint and key_file under [{Profile}] in ~/.oci/config (or in the file {ConfigFileVariable} names)");
    }

    /// <summary>The private key from the first source that yields one.</summary>
    public async Task<(RSA? Key, string? Error)> PrivateKeyAsync(CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        if (environment("OCI_private_key_path") is { } envPath)
        {
            var (key, error) = await ReadKeyAsync(Expand(envPath), passphrase: "", cancellationToken).ConfigureAwait(false);
            if (key is not null)
            {
                return (key, null);
            }

            reasons.Add($"OCI_private_key_path: {error}");
        }

        foreach (var file in new[] { DefaultConfigFile, SecondaryConfigFile })
        {
            var (profile, error) = await ReadProfileAsync(file, cancellationToken).ConfigureAwait(false);
            if (profile is null)
            {
                reasons.Add(error!);
                continue;
            }

            if (!profile.TryGetValue("key_file", out var keyFile))
            {
                reasons.Add($"{file}: [{Profile}] has no key_file");
                continue;
            }

            var passphrase = profile.GetValueOrDefault("pass_phrase") ?? profile.GetValueOrDefault("passphrase") ?? "";
            var (key, keyError) = await ReadKeyAsync(Expand(keyFile), passphrase, cancellationToken).ConfigureAwait(false);
            if (key is not null)
            {
                return (key, null);
            }

            reasons.Add($"{file}: key_file {keyError}");
        }

        return (null, "did not find a proper configuration for private key (" + string.Join("; ", reasons) + ")");
    }

    /// <summary>
    /// The <c>[DEFAULT]</c> profile as the SDK reads it: the lines after <c>[DEFAULT]</c> up to the next <c>[…]</c>;
    /// each line with <c>=</c> is a key (lower-cased) and the text up to the next <c>=</c>, both trimmed.
    /// </summary>
    internal async Task<(Dictionary<string, string>? Profile, string? Error)> ReadProfileAsync(string file, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"{file}: can not read config file ({e.Message})");
        }

        if (text.Length == 0)
        {
            return (null, $"{file}: configuration file content is empty");
        }

        return ParseProfile(text) is { } profile ? (profile, null) : (null, $"{file}: configuration file did not contain profile: {Profile}");
    }

    internal static Dictionary<string, string>? ParseProfile(string text)
    {
        Dictionary<string, string>? profile = null;
        foreach (var line in text.Split('\n'))
        {
            if (ProfileName(line) is { } name)
            {
                if (profile is not null)
                {
                    break;
                }

                if (name == Profile)
                {
                    profile = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                continue;
            }

            if (profile is null || !line.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line.Split('=');
            profile[parts[0].Trim().ToLowerInvariant()] = parts[1].Trim();
        }

        return profile;
    }

    // The SDK's ^\[(.*)\]: a line starting with '[', up to its last ']'.
    private static string? ProfileName(string line)
    {
        var close = line.LastIndexOf(']');
        return line.StartsWith('[') && close > 0 ? line[1..close] : null;
    }

    /// <summary>A leading <c>~</c> is the home folder, as the SDK's expandPath.</summary>
    private string Expand(string path) =>
        path.StartsWith('~') ? Path.Combine(Home, path.Length > 2 ? path[2..] : "") : path;

    private static async Task<(RSA? Key, string? Error)> ReadKeyAsync(string path, string passphrase, CancellationToken cancellationToken)
    {
        string pem;
        try
        {
            pem = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"{path} can not be read ({e.Message})");
        }

        try
        {
            return (OciPrivateKey.Parse(pem, passphrase), null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException)
        {
            return (null, $"{path}: {e.Message}");
        }
    }
}

/// <summary>
/// An RSA private key in PEM as OCI API keys come: PKCS#1 (<c>RSA PRIVATE KEY</c>) or PKCS#8 (<c>PRIVATE KEY</c>),
/// encrypted with a passphrase either the legacy OpenSSL way (<c>Proc-Type: 4,ENCRYPTED</c> with <c>DEK-Info</c>, as
/// the Go SDK reads) or as PKCS#8 (<c>ENCRYPTED PRIVATE KEY</c>, which the Go SDK cannot read).
/// </summary>
internal static class OciPrivateKey
{
    /// <exception cref="CryptographicException">Not a key, a wrong passphrase, or an unsupported cipher; the message says which.</exception>
    public static RSA Parse(string pem, string passphrase)
    {
        var rsa = RSA.Create();
        try
        {
            if (pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
            {
                rsa.ImportRSAPrivateKey(DecryptLegacy(pem, passphrase), out _);
            }
            else if (pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            {
                if (passphrase.Length == 0)
                {
                    throw new CryptographicException("the key is encrypted; set pass_phrase in the config file");
                }

                rsa.ImportFromEncryptedPem(pem, passphrase);
            }
            else
            {
                rsa.ImportFromPem(pem);
            }

            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    // RFC 1421-style PEM encryption as OpenSSL writes it: the key is EVP_BytesToKey(MD5, salt = the IV's first 8
    // bytes, one round) of the passphrase, the body is the PKCS#1 DER encrypted in CBC mode.
    private static byte[] DecryptLegacy(string pem, string passphrase)
    {
        if (passphrase.Length == 0)
        {
            throw new CryptographicException("private_key_password is required for encrypted private keys; set pass_phrase in the config file");
        }

        var lines = pem.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var dekInfo = lines.FirstOrDefault(l => l.StartsWith("DEK-Info:", StringComparison.Ordinal))
            ?? throw new CryptographicException("the encrypted key has no DEK-Info header");
        var parts = dekInfo["DEK-Info:".Length..].Trim().Split(',');
        var iv = Convert.FromHexString(parts[1].Trim());
        var begin = Array.FindIndex(lines, l => l.StartsWith("-----BEGIN", StringComparison.Ordinal));
        var end = Array.FindIndex(lines, l => l.StartsWith("-----END", StringComparison.Ordinal));
        var body = Convert.FromBase64String(string.Concat(lines[(begin + 1)..end].Where(l => !l.Contains(':', StringComparison.Ordinal))));
        using SymmetricAlgorithm cipher = parts[0].Trim() switch
        {
            "AES-128-CBC" or "AES-192-CBC" or "AES-256-CBC" => Aes.Create(),
#pragma warning disable CA5350 // Reading a key someone encrypted so: the format's cipher, not our choice.
            "DES-EDE3-CBC" => TripleDES.Create(),
#pragma warning restore CA5350
            var other => throw new CryptographicException($"the key's cipher {other} is not supported; use AES-128/192/256-CBC or DES-EDE3-CBC"),
        };
        var keySize = parts[0].Trim() switch
        {
            "AES-128-CBC" => 16,
            "AES-192-CBC" => 24,
            "AES-256-CBC" => 32,
            _ => 24,
        };
        cipher.Key = BytesToKey(Encoding.UTF8.GetBytes(passphrase), iv[..8], keySize);
        try
        {
            return cipher.DecryptCbc(body, iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException)
        {
            throw new CryptographicException("x509: decryption password incorrect");
        }
    }

    private static byte[] BytesToKey(byte[] password, byte[] salt, int length)
    {
        var key = new List<byte>(length + 16);
        var previous = Array.Empty<byte>();
        while (key.Count < length)
        {
#pragma warning disable CA5351 // The legacy PEM format's own key derivation (EVP_BytesToKey with MD5); reading only.
            previous = MD5.HashData([.. previous, .. password, .. salt]);
#pragma warning restore CA5351
            key.AddRange(previous);
        }

        return [.. key.Take(length)];
    }
}
