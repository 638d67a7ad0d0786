using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.DevVault;

/// <summary>Random identifiers in Vault 1.8's formats, and Vault's time formats.</summary>
internal static class Ids
{
    private const string Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static long s_sequence;

    public static string Random(int length) => new(RandomNumberGenerator.GetItems<char>(Alnum, length));

    public static string ServiceToken() => "s." + Random(24);

    public static string BatchToken()
    {
        var bytes = RandomNumberGenerator.GetBytes(96);
        return "b.AAAAAQ" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static string Uuid() => Guid.NewGuid().ToString("D");

    public static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>
    /// A token's lease key, "h" + 64 hex digits like Vault's salted hash. The first 16 digits are a creation
    /// sequence so that a LIST of token leases comes back in creation order (stable for tests).
    /// </summary>
    public static string TokenLeaseKey(string tokenId)
    {
        var seq = Interlocked.Increment(ref s_sequence);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tokenId)));
        return "h" + seq.ToString("x16", CultureInfo.InvariantCulture) + hash[..48];
    }

    /// <summary>Go's RFC 3339 with nanoseconds (trailing zeros trimmed), always UTC.</summary>
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    public static long Unix(DateTimeOffset t) => t.ToUnixTimeSeconds();
}
