namespace Gatehouse.Configuration;

/// <summary>
/// The form of the shared store's key material (<c>cache.shared</c>'s <c>key_file</c> content or <c>key_env_var</c>'s
/// value): base64 of at least 32 bytes. The validator and the binder check it with this; <c>Shared/SharedKeys</c>
/// decodes it with <see cref="TryDecode"/>, so start-up accepts exactly what validation accepts.
/// </summary>
internal static class SharedKeyText
{
    public const int MinimumBytes = 32;

    public const string HowToMakeOne = "set it to base64 of at least 32 random bytes (make one with: head -c 32 /dev/urandom | base64)";

    /// <summary>Why <paramref name="text"/> is not usable key material, to follow its name in a message; null when it is.</summary>
    public static string? Problem(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return $"is empty; {HowToMakeOne}";
        if (!TryDecode(text, out var key))
            return $"is not valid base64; {HowToMakeOne}";
        return key.Length >= MinimumBytes ? null : $"holds {key.Length} bytes, fewer than {MinimumBytes}; {HowToMakeOne}";
    }

    /// <summary>The key material in <paramref name="text"/> (surrounding white space, such as a file's last newline, ignored).</summary>
    public static bool TryDecode(string text, out byte[] key)
    {
        try
        {
            key = Convert.FromBase64String(text.Trim());
            return true;
        }
        catch (FormatException)
        {
            key = [];
            return false;
        }
    }
}
