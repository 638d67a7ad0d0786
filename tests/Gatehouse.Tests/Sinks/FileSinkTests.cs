using System.Text;
using Gatehouse.Sinks;

namespace Gatehouse.Tests.Sinks;

public sealed class FileSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-sink-").FullName;

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task FileSink_Write_HasTheConfiguredModeAndNoTrailingNewline()
    {
        var sink = new FileSink(Path.Combine(_dir, "token"), 0b110_100_000, null, null);
        await sink.WriteAsync(Encoding.UTF8.GetBytes("s.abc"), CancellationToken.None);

        Assert.Equal("s.abc", await File.ReadAllTextAsync(sink.Path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(sink.Path));
        }

        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task FileSink_ModeZero_StillWritesTheFile()
    {
        var sink = new FileSink(Path.Combine(_dir, "token"), 0, null, null);
        await sink.WriteAsync(Encoding.UTF8.GetBytes("s.abc"), CancellationToken.None);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(sink.Path));
        }
    }

    [Fact]
    public void FileSink_WhenDirectoryMissing_FailsAtStartup()
    {
        var sink = new FileSink(Path.Combine(_dir, "nope", "token"), 0b110_100_000, null, null);
        var error = Assert.Throws<SinkStartupException>(sink.CheckWritable);
        Assert.Contains("error during write check", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileSink_WhenDirectoryReadOnly_FailsAtStartup()
    {
        if (OperatingSystem.IsWindows() || Environment.UserName == "root")
        {
            return; // root writes anywhere; the check cannot fail there.
        }

        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var sink = new FileSink(Path.Combine(_dir, "token"), 0b110_100_000, null, null);
        var error = Assert.Throws<SinkStartupException>(sink.CheckWritable);
        Assert.Contains("cannot create files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileSink_CheckWritable_LeavesNothingBehind()
    {
        var sink = new FileSink(Path.Combine(_dir, "token"), 0b110_100_000, null, null);
        sink.CheckWritable();
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0b1_000_000_000)]
    public void FileSink_ModeWithTypeBits_IsRejected(int mode) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileSink(Path.Combine(_dir, "token"), mode, null, null));

    [Fact]
    public async Task FileSink_ConcurrentReader_NeverSeesATornOrEmptyFile()
    {
        var sink = new FileSink(Path.Combine(_dir, "token"), 0b110_100_000, null, null);
        await sink.WriteAsync(Encoding.UTF8.GetBytes(Token(0)), CancellationToken.None);

        using var stop = new CancellationTokenSource();
        var bad = new List<string>();
        var reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var text = File.ReadAllText(sink.Path);
                reads++;
                if (!IsWholeToken(text))
                {
                    bad.Add(text);
                }
            }
        });

        for (var i = 1; i <= 2000; i++)
        {
            await sink.WriteAsync(Encoding.UTF8.GetBytes(Token(i)), CancellationToken.None);
        }

        await stop.CancelAsync();
        await reader;
        Assert.Empty(bad);
        Assert.True(reads > 0);
        Assert.Equal(Token(2000), await File.ReadAllTextAsync(sink.Path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    // Lengths vary so a torn read (old tail, new head) cannot look whole.
    private static string Token(int i) => $"hvs.{i}." + new string((char)('a' + i % 26), 10 + i % 97) + ".end";

    private static bool IsWholeToken(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts[0] == "hvs" && int.TryParse(parts[1], out var i) && text == Token(i);
    }
}
