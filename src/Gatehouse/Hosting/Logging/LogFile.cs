using System.Globalization;

namespace Gatehouse.Hosting.Logging;

/// <summary>
/// <c>-log-file</c> with Vault's rotation rules (its logging.LogFile):
/// the active file keeps its name; before a write, when the file holds at least <c>log_rotate_bytes</c> (if set) or
/// was opened <c>log_rotate_duration</c> ago, it is renamed to <c>&lt;name&gt;-&lt;unix nanos of its opening&gt;&lt;ext&gt;</c>
/// and a new one is opened; then rotated files beyond <c>log_rotate_max_files</c> are deleted, oldest first
/// (0 keeps all, -1 keeps none). Files are created with mode 0640 and appended to. Not thread-safe: the logger
/// provider serialises writes.
/// </summary>
internal sealed class LogFile : IDisposable
{
    private readonly TimeProvider _time;
    private readonly string _directory;
    private readonly string _baseName;
    private readonly string _extension;
    private readonly long _maxBytes;
    private readonly TimeSpan _duration;
    private readonly int _maxFiles;
    private FileStream? _stream;
    private DateTimeOffset _openedAt;
    private long _bytesWritten;

    public LogFile(string path, TimeProvider time, long maxBytes = 0, TimeSpan? duration = null, int maxFiles = 0)
    {
        _time = time;
        Path = path;
        _directory = System.IO.Path.GetDirectoryName(path) is { Length: > 0 } dir ? dir : ".";
        _extension = System.IO.Path.GetExtension(path);
        _baseName = System.IO.Path.GetFileNameWithoutExtension(path);
        _maxBytes = maxBytes;
        _duration = duration is { } d && d > TimeSpan.Zero ? d : Configuration.Defaults.LogRotateDuration;
        _maxFiles = maxFiles;
    }

    /// <summary>The active file's full path.</summary>
    public string Path { get; }

    /// <summary>
    /// Vault's naming: a path ending in a separator (or naming a directory) gets <c>&lt;product&gt;.log</c>
    /// (<c>proxy.log</c>, <c>agent.log</c>); a file name without an extension gets <c>.log</c>.
    /// </summary>
    public static string ResolvePath(string configured, string defaultFileName)
    {
        string path = configured;
        if (path.EndsWith(System.IO.Path.DirectorySeparatorChar) || path.EndsWith(System.IO.Path.AltDirectorySeparatorChar) || Directory.Exists(path))
        {
            path = System.IO.Path.Combine(path, defaultFileName);
        }

        if (System.IO.Path.GetExtension(path).Length == 0)
        {
            path += ".log";
        }

        return path;
    }

    /// <summary>
    /// Opens (creates or appends to) the active file now, so a bad path fails at startup: a
    /// <see cref="LogFileException"/> naming the file and the reason.
    /// </summary>
    public void Open()
    {
        if (_stream is not null)
        {
            return;
        }

        try
        {
            OpenNew();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new LogFileException($"log file \"{Path}\": {exception.Message}", exception);
        }
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_stream is null)
        {
            OpenNew();
        }

        RotateIfDue();
        _stream!.Write(bytes);
        _stream.Flush();
        _bytesWritten += bytes.Length;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private void OpenNew()
    {
        Directory.CreateDirectory(_directory);
        var options = new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite | FileShare.Delete,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }

        _stream = new FileStream(Path, options);
        _bytesWritten = _stream.Length;
        _openedAt = _time.GetUtcNow();
    }

    private void RotateIfDue()
    {
        bool bySize = _maxBytes > 0 && _bytesWritten >= _maxBytes;
        bool byAge = _time.GetUtcNow() - _openedAt >= _duration;
        if (!bySize && !byAge)
        {
            return;
        }

        _stream!.Dispose();
        _stream = null;
        long nanos = (_openedAt - DateTimeOffset.UnixEpoch).Ticks * 100;
        File.Move(Path, RotatedPath(nanos.ToString(CultureInfo.InvariantCulture)), overwrite: true);
        OpenNew();
        Prune();
    }

    private string RotatedPath(string stamp) => System.IO.Path.Combine(_directory, $"{_baseName}-{stamp}{_extension}");

    private void Prune()
    {
        if (_maxFiles == 0)
        {
            return;
        }

        // Vault globs <name>-*<ext> and sorts by name; the nanosecond stamps have the same width for centuries.
        var rotated = Directory.GetFiles(_directory, $"{_baseName}-*{_extension}")
            .Where(f => !string.Equals(f, Path, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        int remove = _maxFiles < 0 ? rotated.Count : rotated.Count - _maxFiles;
        foreach (string file in rotated.Take(Math.Max(remove, 0)))
        {
            File.Delete(file);
        }
    }
}
