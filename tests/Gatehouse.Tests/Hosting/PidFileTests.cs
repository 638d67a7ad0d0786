using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class PidFileTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-pid-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PidFile_Lifecycle_WritesDecimalPidWithoutNewlineAndRemovesAtExit()
    {
        string path = Path.Combine(_dir, "gatehouse.pid");

        var pidFile = PidFile.TryWrite(path, out string? error);

        Assert.Null(error);
        Assert.NotNull(pidFile);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        pidFile.Dispose();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void PidFile_ExistingFileWithWideMode_IsTruncatedAndTightened()
    {
        string path = Path.Combine(_dir, "gatehouse.pid");
        File.WriteAllText(path, "123456789012");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        }

        using var pidFile = PidFile.TryWrite(path, out _, pid: 42);

        Assert.Equal("42", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void PidFile_UnwritablePath_ReportsVaultMessage()
    {
        string path = Path.Combine(_dir, "missing", "gatehouse.pid");

        var pidFile = PidFile.TryWrite(path, out string? error);

        Assert.Null(pidFile);
        Assert.StartsWith("Error storing PID: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void PidFile_ReplacedByAnotherProcess_IsNotRemoved()
    {
        string path = Path.Combine(_dir, "gatehouse.pid");
        var pidFile = PidFile.TryWrite(path, out _, pid: 42)!;
        File.WriteAllText(path, "43");

        pidFile.Dispose();

        Assert.Equal("43", File.ReadAllText(path));
    }
}
