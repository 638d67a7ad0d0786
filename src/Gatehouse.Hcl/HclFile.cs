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
    /// The largest file <see cref="Load"/> reads: 16 MiB. Real configuration files are a few kilobytes; the limit keeps
    /// a wrong path (<c>/dev/zero</c>, a FIFO fed without end, a log file) from taking the process's memory.
    /// </summary>
    public const int MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Reads a file and parses it by its content. I/O failures surface as the usual I/O exceptions, and so does a file
    /// over <see cref="MaxFileBytes"/> (an <see cref="IOException"/> saying so); anything wrong with the content is an
    /// <see cref="HclParseException"/>.
    /// </summary>
    public static HclObject Load(string path) => Parse(ReadBounded(path, MaxFileBytes), path);

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes, then one more to tell "exactly the limit" from "larger". A file
    /// whose length is known and too large is refused before any of it is read; a stream that reports no length
    /// (a device, a FIFO) is read in chunks and refused once it passes the limit, so memory never exceeds it.
    /// </summary>
    private static byte[] ReadBounded(string path, int limit)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        if (stream.CanSeek && stream.Length > limit)
        {
            throw TooLarge(limit);
        }

        var buffer = new byte[stream.CanSeek && stream.Length > 0 ? (int)stream.Length + 1 : 64 * 1024];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    throw TooLarge(limit);
                }

                Array.Resize(ref buffer, (int)Math.Min(2L * buffer.Length, limit + 1L));
            }

            var read = stream.Read(buffer, length, buffer.Length - length);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        if (length > limit)
        {
            throw TooLarge(limit);
        }

        return length == buffer.Length ? buffer : buffer[..length];
    }

    private static IOException TooLarge(int limit) =>
        new($"the file is larger than {limit / (1024 * 1024)} MiB ({limit} bytes), the most a configuration file may hold");

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
