using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Gatehouse.Hcl;

/// <summary>Loads a config file from bytes, the way Vault does: <c>.json</c> is the JSON form, anything else HCL.</summary>
public static class HclFile
{
    /// <summary>
    /// Reads a file and parses it by extension. I/O failures surface as the usual I/O exceptions; anything wrong
    /// with the content is an <see cref="HclParseException"/>.
    /// </summary>
    public static HclObject Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses UTF-8 bytes (a leading byte order mark is skipped) by the extension of <paramref name="fileName"/>.</summary>
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

        return fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? HclJsonParser.ParseUtf8(bytes, fileName)
            : HclParser.Parse(Encoding.UTF8.GetString(bytes), fileName);
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
