namespace Gatehouse.Configuration;

/// <summary>
/// The form of a persistent-cache key given as text (<c>key_env_var</c>'s value, or <c>key_file</c>'s content): a
/// base64-encoded 32-byte key. The binder checks <c>key_env_var</c>'s value with it when the configuration is loaded.
/// </summary>
internal static class PersistKeyText
{
    public const int KeySize = 32;

    private const string HowToMakeOne = "(make one with: head -c 32 /dev/urandom | base64)";

    /// <summary>Why <paramref name="text"/> is not a usable key, to follow its name in a message; null when it is one.</summary>
    public static string? Problem(string text)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            return $"is not valid base64; it must hold a base64-encoded 32-byte key {HowToMakeOne}";
        }

        return key.Length == KeySize ? null : $"holds {key.Length} bytes; it must be a base64-encoded 32-byte key {HowToMakeOne}";
    }
}
