using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Gatehouse.Hcl;

/// <summary>
/// Loads a config file from bytes the way Vault does (hashicorp/hcl's <c>hcl.Parse</c>): the JSON form when the first
/// character that is not white space is <c>{</c>, HCL otherwise, whatever the file is called.
/// </summary>
public static class HclFile
{
    /// <summary>
    /// Reads a file and parses it by its content. I/O failures surface as the usual I/O exceptions; anything wrong
    /// with the content is an <see cref="HclParseException"/>.
    /// </summary>
    public static HclObject Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>
    /// Parses UTF-8 bytes (a leading byte order mark is skipped) as JSON when they start, after white space, with
    /// <c>{</c> (an HCL file never can), and as HCL otherwise. <paramref name="fileName"/> is only used in positions.
    /// </summary>
    public static HclObject Parse(byte[] utf8, string fileName)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(fileName);
        ReadOnlySpan<byte> bytes = utf8;
        var bom = bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
        bytes = bytes[bom..];
        if (!Utf8.IsValid(bytes))
        {
            throw InvalidUtf8(bytes, bom, fileName);
        }

        return IsJson(bytes)
            ? HclJsonParser.ParseUtf8(bytes, fileName)
            : HclParser.Parse(Encoding.UTF8.GetString(bytes), fileName);
    }

    /// <summary>hcl's lexMode: JSON when the first code point that is not white space (Unicode's) is '{'.</summary>
    internal static bool IsJson(ReadOnlySpan<byte> utf8)
    {
        while (Rune.DecodeFromUtf8(utf8, out var rune, out var length) == OperationStatus.Done)
        {
            if (!Rune.IsWhiteSpace(rune))
            {
                return rune.Value == '{';
            }

            utf8 = utf8[length..];
        }

        return false;
    }

    private static HclParseException InvalidUtf8(ReadOnlySpan<byte> bytes, int bom, string fileName)
    {
        // Decode up to the first bad byte so its place can be given as line:column like every other error.
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
        var prefix = new string(chars, 0, written);
        var bad = status == OperationStatus.Done ? 0 : bytes[Math.Min(read, bytes.Length - 1)];
        return HclErrors.At(prefix, fileName, written, $"invalid UTF-8 (byte 0x{bad:X2} at byte offset {read + bom}); the file must be UTF-8 text");
    }
}
