using System.Text;
using Gatehouse.Hosting.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Hosting.Logging;

public sealed class LogFileTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("gatehouse-logfile-");
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _dir.Dispose();

    private static long Nanos(DateTimeOffset t) => (t - DateTimeOffset.UnixEpoch).Ticks * 100;

    private string[] Files() => [.. Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private static void Write(LogFile file, string text) => file.Write(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("/var/log/gh/", "/var/log/gh/proxy.log")]
    [InlineData("/var/log/gh/gatehouse", "/var/log/gh/gatehouse.log")]
    [InlineData("/var/log/gh/gatehouse.txt", "/var/log/gh/gatehouse.txt")]
    [InlineData("gatehouse", "gatehouse.log")]
    public void ResolvePath_FollowsVaultNaming(string configured, string expected) =>
        Assert.Equal(expected, LogFile.ResolvePath(configured, "proxy.log"));

    [Fact]
    public void ResolvePath_ExistingDirectory_GetsDefaultFileName() =>
        Assert.Equal(Path.Combine(_dir, "agent.log"), LogFile.ResolvePath(_dir, "agent.log"));

    [Fact]
    public void Rotation_BySize_RenamesWithOpeningNanos()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time, maxBytes: 10);
        Write(file, "0123456789"); // fills the file
        _time.Advance(TimeSpan.FromSeconds(1));
        Write(file, "next\n"); // rotates first

        Assert.Equal([$"proxy-{Nanos(Start)}.log", "proxy.log"], Files());
        Assert.Equal("0123456789", File.ReadAllText(Path.Combine(_dir, $"proxy-{Nanos(Start)}.log")));
        Assert.Equal("next\n", File.ReadAllText(Path.Combine(_dir, "proxy.log")));
    }

    [Fact]
    public void Rotation_ByDuration_OnFakeTime()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time, duration: TimeSpan.FromHours(1));
        Write(file, "a\n");
        _time.Advance(TimeSpan.FromMinutes(59));
        Write(file, "b\n");
        Assert.Equal(["proxy.log"], Files());

        _time.Advance(TimeSpan.FromMinutes(1));
        Write(file, "c\n");

        Assert.Equal([$"proxy-{Nanos(Start)}.log", "proxy.log"], Files());
        Assert.Equal("a\nb\n", File.ReadAllText(Path.Combine(_dir, $"proxy-{Nanos(Start)}.log")));
        Assert.Equal("c\n", File.ReadAllText(Path.Combine(_dir, "proxy.log")));
    }

    [Fact]
    public void Rotation_DefaultDuration_Is24Hours()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time);
        Write(file, "a\n");
        _time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromTicks(1));
        Write(file, "b\n");
        Assert.Single(Files());
        _time.Advance(TimeSpan.FromTicks(1));
        Write(file, "c\n");
        Assert.Equal(2, Files().Length);
    }

    [Fact]
    public void Rotation_MaxFiles_KeepsNewestRotated()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time, maxBytes: 1, maxFiles: 2);
        var opened = new List<DateTimeOffset>();
        for (int i = 0; i < 5; i++)
        {
            opened.Add(_time.GetUtcNow());
            Write(file, $"{i}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([$"proxy-{Nanos(opened[2])}.log", $"proxy-{Nanos(opened[3])}.log", "proxy.log"], Files());
        Assert.Equal("4", File.ReadAllText(Path.Combine(_dir, "proxy.log")));
    }

    [Fact]
    public void Rotation_MaxFilesMinusOne_DiscardsRotated()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time, maxBytes: 1, maxFiles: -1);
        for (int i = 0; i < 3; i++)
        {
            Write(file, $"{i}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(["proxy.log"], Files());
    }

    [Fact]
    public void Rotation_MaxFilesZero_KeepsAll()
    {
        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time, maxBytes: 1, maxFiles: 0);
        for (int i = 0; i < 4; i++)
        {
            Write(file, $"{i}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(4, Files().Length);
    }

    [Fact]
    public void Open_ExistingFile_AppendsAndCountsItsSize()
    {
        string path = Path.Combine(_dir, "proxy.log");
        File.WriteAllText(path, "12345");
        using var file = new LogFile(path, _time, maxBytes: 6);
        Write(file, "6");
        Write(file, "7");

        Assert.Equal("7", File.ReadAllText(path));
        Assert.Equal("123456", File.ReadAllText(Path.Combine(_dir, $"proxy-{Nanos(Start)}.log")));
    }

    [Fact]
    public void NewFile_HasMode0640()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var file = new LogFile(Path.Combine(_dir, "proxy.log"), _time);
        file.Open();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file.Path));
    }
}
