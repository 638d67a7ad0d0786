using System.Collections.Immutable;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Sinks;

namespace Gatehouse.Tests.Sinks;

public sealed class FileSinkTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-sink-");

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        _dir.Dispose();
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
    public void FileSink_WhenDirectoryCannotBeWrittenEvenByRoot_FailsAtStartup()
    {
        // procfs refuses new files to everyone, root included, so this runs (and fails the check) whoever runs it.
        if (!OperatingSystem.IsLinux())
        {
            return; // needs /proc
        }

        var sink = new FileSink("/proc/gatehouse-token", 0b110_100_000, null, null);
        var error = Assert.Throws<SinkStartupException>(sink.CheckWritable);
        Assert.Contains("error during write check", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot create files in /proc", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileSink_WhenTheParentIsARegularFile_FailsAtStartupSayingSo()
    {
        File.WriteAllText(Path.Combine(_dir, "plain"), "x");
        var sink = new FileSink(Path.Combine(_dir, "plain", "token"), 0b110_100_000, null, null);
        var error = Assert.Throws<SinkStartupException>(sink.CheckWritable);
        Assert.Contains("is a file, not a directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileSink_UidAndGid_AreAppliedToTheWrittenFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // unix ownership
        }

        var path = Path.Combine(_dir, "token");
        var settings = new ConfigMap(
            ImmutableDictionary<string, HclNode>.Empty
                .Add("path", new HclString(path, default))
                .Add("uid", new HclNumber("4321", 4321, 4321, default))
                .Add("gid", new HclNumber("8765", 8765, 8765, default)),
            default);
        var sink = SinkFactory.Create(new SinkConfig { Type = "file", Config = settings }, null!).File;
        Assert.Equal((4321, 8765), (sink.Uid, sink.Gid));

        if (Environment.UserName != "root")
        {
            // Without CAP_CHOWN the write fails (and the sink server retries it); it never leaves a temp file.
            await Assert.ThrowsAsync<IOException>(() => sink.WriteAsync("s.abc"u8.ToArray(), CancellationToken.None));
            Assert.Empty(Directory.GetFileSystemEntries(_dir));
            return;
        }

        await sink.WriteAsync("s.abc"u8.ToArray(), CancellationToken.None);
        Assert.Equal("4321:8765", Stat(path, "%u:%g"));
        Assert.Equal("640", Stat(path, "%a"));

        // Only the one that is set changes.
        var gidOnly = new FileSink(path, 0b110_000_000, null, 1111);
        await gidOnly.WriteAsync("s.def"u8.ToArray(), CancellationToken.None);
        Assert.Equal("0:1111", Stat(path, "%u:%g"));
    }

    private static string Stat(string path, string format)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true })!;
        var output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return output;
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

        // Each write fsyncs (about 2 ms here); 500 replacements under a busy reader catch a non-atomic write at once.
        const int Writes = 500;
        for (var i = 1; i <= Writes; i++)
        {
            await sink.WriteAsync(Encoding.UTF8.GetBytes(Token(i)), CancellationToken.None);
        }

        await stop.CancelAsync();
        await reader;
        Assert.Empty(bad);
        Assert.True(reads > 0);
        Assert.Equal(Token(Writes), await File.ReadAllTextAsync(sink.Path));
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
