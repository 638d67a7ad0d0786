using System.Globalization;
using System.Text;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>pid_file</c>: written after the listeners start, the decimal PID with no newline, mode 0600; removed at exit
/// (dispose), but only while it still holds our PID, so a second instance's file is not deleted.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private PidFile(string path, int pid)
    {
        Path = path;
        Pid = pid;
    }

    public string Path { get; }

    public int Pid { get; }

    /// <summary>
    /// Writes the file. On failure returns null and <paramref name="error"/> is Vault's message,
    /// <c>Error storing PID: …</c>; the caller prints it and exits 1.
    /// </summary>
    public static PidFile? TryWrite(string path, out string? error, int? pid = null)
    {
        int id = pid ?? Environment.ProcessId;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = Mode;
            }

            using (var stream = new FileStream(path, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture)));
            }

            if (!OperatingSystem.IsWindows())
            {
                // An existing file keeps its mode on open; a PID file is ours alone.
                File.SetUnixFileMode(path, Mode);
            }

            error = null;
            return new PidFile(path, id);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"Error storing PID: {ex.Message}";
            return null;
        }
    }

    /// <summary>Removes the file if it still holds our PID. Never throws: this runs on the way out.</summary>
    public void Dispose()
    {
        try
        {
            if (File.Exists(Path) && File.ReadAllText(Path).Trim() == Pid.ToString(CultureInfo.InvariantCulture))
            {
                File.Delete(Path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing useful to do at exit; a stale PID file is the worst outcome.
        }
    }
}
