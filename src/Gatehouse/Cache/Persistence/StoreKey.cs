using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Cache.Persistence;

/// <summary>How the store's data key is made; written in the file header so a reader knows what to expect.</summary>
internal enum StoreKeyKind : byte
{
    /// <summary>A 32-byte key from <c>key_file</c> or <c>key_env_var</c>.</summary>
    ConfiguredKey = 1,

    /// <summary>The Kubernetes service-account token (persist "kubernetes" without a configured key).</summary>
    ServiceAccountToken = 2,
}

/// <summary>
/// The input keying material of the store. The data key itself is never stored: it is derived per file with
/// HKDF-SHA256(ikm, salt from the file header, info "gatehouse lease cache v1"), so neither the file alone nor the
/// salt in it decrypts anything.
/// </summary>
internal sealed class StoreKey
{
    public const int KeySize = 32;
    private static readonly byte[] Info = "gatehouse lease cache v1"u8.ToArray();

    private readonly byte[] _ikm;

    private StoreKey(StoreKeyKind kind, byte[] ikm, string source)
    {
        Kind = kind;
        _ikm = ikm;
        Source = source;
    }

    public StoreKeyKind Kind { get; }

    /// <summary>Where the key came from, for messages (a path or a variable name; never the key).</summary>
    public string Source { get; }

    public byte[] DeriveDataKey(ReadOnlySpan<byte> salt)
    {
        var key = new byte[KeySize];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _ikm, key, salt, Info);
        return key;
    }

    /// <summary>
    /// Loads the key material for <paramref name="persist"/>. A configured key (<c>key_file</c>, <c>key_env_var</c>;
    /// either type) wins; persist "kubernetes" otherwise reads the service-account token.
    /// </summary>
    public static StoreKey Load(PersistConfig persist, Func<string, string?>? environment = null)
    {
        var path = $"cache.persist \"{persist.Type}\"";
        if (!string.IsNullOrEmpty(persist.KeyFile))
        {
            string text;
            try
            {
                text = File.ReadAllText(persist.KeyFile);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new CachePersistException($"{path}: cannot read key_file {persist.KeyFile}: {exception.Message}", alwaysFatal: true, exception);
            }

            return new StoreKey(StoreKeyKind.ConfiguredKey, Decode(text, $"{path}: key_file {persist.KeyFile}"), persist.KeyFile);
        }

        if (!string.IsNullOrEmpty(persist.KeyEnvVar))
        {
            var value = (environment ?? Environment.GetEnvironmentVariable)(persist.KeyEnvVar);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new CachePersistException($"{path}: the environment variable {persist.KeyEnvVar} (key_env_var) is not set or empty; " +
                    "set it to a base64-encoded 32-byte key", alwaysFatal: true);
            }

            return new StoreKey(StoreKeyKind.ConfiguredKey, Decode(value, $"{path}: key_env_var {persist.KeyEnvVar}"), "$" + persist.KeyEnvVar);
        }

        if (persist.Type != "kubernetes")
        {
            throw new CachePersistException($"{path} needs an encryption key: set key_file or key_env_var (a base64-encoded 32-byte key)", alwaysFatal: true);
        }

        var tokenFile = string.IsNullOrEmpty(persist.ServiceAccountTokenFile) ? Defaults.KubernetesTokenPath : persist.ServiceAccountTokenFile;
        string jwt;
        try
        {
            jwt = File.ReadAllText(tokenFile).Trim();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CachePersistException($"failed to read service account token from {tokenFile}: {exception.Message}", alwaysFatal: false, exception);
        }

        if (jwt.Length == 0)
        {
            throw new CachePersistException($"failed to read service account token from {tokenFile}: the file is empty");
        }

        return new StoreKey(StoreKeyKind.ServiceAccountToken, Encoding.UTF8.GetBytes(jwt), tokenFile);
    }

    private static byte[] Decode(string text, string what)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException exception)
        {
            throw new CachePersistException($"{what} is not valid base64; it must hold a base64-encoded 32-byte key " +
                "(make one with: head -c 32 /dev/urandom | base64)", alwaysFatal: true, exception);
        }

        if (key.Length != KeySize)
        {
            throw new CachePersistException($"{what} holds {key.Length} bytes; it must be a base64-encoded 32-byte key " +
                "(make one with: head -c 32 /dev/urandom | base64)", alwaysFatal: true);
        }

        return key;
    }
}
