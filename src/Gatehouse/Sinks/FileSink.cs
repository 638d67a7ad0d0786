using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Gatehouse.AutoAuth;

namespace Gatehouse.Sinks;

/// <summary>
/// The <c>file</c> sink target: writes bytes to <see cref="Path"/> atomically, so a reader sees the old content or
/// the new, never a partial or empty file — even if the process dies mid-write.
/// </summary>
/// <remarks>
/// Step map of <see cref="WriteAsync"/>:
/// 1. Create <c>&lt;dir&gt;/&lt;base&gt;.tmp.&lt;8 hex&gt;</c> (new, exclusive) with the final mode, and set the mode
///    again on the handle because the umask may have taken bits off. chown it when uid/gid are set.
/// 2. Write the bytes (no trailing newline), flush, fsync.
/// 3. rename(2) over the target: atomic on the same file system, which is why the temp file sits beside it.
/// 4. On any failure, remove the temp file and rethrow.
/// </remarks>
internal sealed class FileSink
{
    /// <summary>Permission bits only: the sink writes regular files.</summary>
    public const int MaxMode = 0b111_111_111;

    public FileSink(string path, int mode, int? uid, int? gid)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException("'path' not specified for file sink", nameof(path));
        }

        if (mode is < 0 or > MaxMode)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), "file mode does not represent a regular file");
        }

        Path = System.IO.Path.GetFullPath(path);
        Directory = System.IO.Path.GetDirectoryName(Path)!;
        Mode = mode;
        Uid = uid is < 0 ? null : uid;
        Gid = gid is < 0 ? null : gid;
    }

    public string Path { get; }

    public string Directory { get; }

    public int Mode { get; }

    public int? Uid { get; }

    public int? Gid { get; }

    /// <summary>Creates and removes a temp file beside the target, as Vault does at startup.</summary>
    public void CheckWritable()
    {
        if (File.Exists(Directory))
        {
            throw new SinkStartupException(
                $"error creating file sink: error during write check: {Directory} is a file, not a directory; change the sink's path");
        }

        if (!System.IO.Directory.Exists(Directory))
        {
            throw new SinkStartupException(
                $"error creating file sink: error during write check: the directory {Directory} does not exist; create it or change the sink's path");
        }

        var probe = TempPath();
        try
        {
            using (CreateTemp(probe))
            {
            }

            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(probe);
            throw new SinkStartupException(
                $"error creating file sink: error during write check: cannot create files in {Directory} ({e.Message}); make it writable for the gatehouse user or change the sink's path", e);
        }
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var temp = TempPath();
        try
        {
            // 1–2. Temp file with the final mode; content; fsync.
            var stream = CreateTemp(temp);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            // 3. Atomic replace.
            File.Move(temp, Path, overwrite: true);
        }
        catch
        {
            // 4. Leave no temp files behind; the caller logs and retries.
            TryDelete(temp);
            throw;
        }
    }

    private FileStream CreateTemp(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = (UnixFileMode)Mode;
        }

        var stream = new FileStream(path, options);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(stream.SafeFileHandle, (UnixFileMode)Mode);
                if (Uid is not null || Gid is not null)
                {
                    Chown(stream, Uid ?? -1, Gid ?? -1);
                }
            }

            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static void Chown(FileStream stream, int uid, int gid)
    {
        var added = false;
        stream.SafeFileHandle.DangerousAddRef(ref added);
        try
        {
            if (NativeMethods.fchown((int)stream.SafeFileHandle.DangerousGetHandle(), uid, gid) != 0)
            {
                throw new IOException($"cannot set owner {uid}:{gid} on the sink file: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            if (added)
            {
                stream.SafeFileHandle.DangerousRelease();
            }
        }
    }

    private string TempPath() =>
        System.IO.Path.Combine(Directory, $"{System.IO.Path.GetFileName(Path)}.tmp.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the write already failed and is being reported.
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport would need AllowUnsafeBlocks for one int-only call.
        internal static extern int fchown(int fd, int owner, int group);
#pragma warning restore SYSLIB1054
    }
}
