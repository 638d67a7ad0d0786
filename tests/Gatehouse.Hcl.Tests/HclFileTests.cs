using System.Text;

namespace Gatehouse.Hcl.Tests;

public sealed class HclFileTests
{
    [Fact]
    public void File_WhenNameEndsInJson_UsesTheJsonParser()
    {
        var tree = HclFile.Parse("{\"a\": 1}"u8.ToArray(), "config.JSON");
        Assert.Equal("{\"a\"=1}", TreeDump.Dump(tree));
    }

    [Fact]
    public void File_WhenNameHasAnyOtherExtension_UsesTheHclParser()
    {
        Assert.Equal("{a=1}", TreeDump.Dump(HclFile.Parse("a = 1"u8.ToArray(), "agent.conf")));
    }

    [Theory]
    [InlineData("a.hcl")]
    [InlineData("a.json")]
    public void File_WhenBytesStartWithByteOrderMark_SkipsIt(string name)
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(name.EndsWith(".json") ? "{\"a\": 1}" : "a = 1")).ToArray();
        var column = name.EndsWith(".json") ? 2 : 1;
        Assert.Equal(new SourcePosition(name, 1, column), HclFile.Parse(bytes, name).Items[0].Position);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)' ', (byte)'=', (byte)' ', 0xFF }, "a.hcl:1:5: invalid UTF-8 (byte 0xFF at byte offset 4); the file must be UTF-8 text")]
    [InlineData(new byte[] { (byte)'a', (byte)'\n', 0xC3, 0xA9, (byte)'x', 0xC3 }, "a.hcl:2:3: invalid UTF-8 (byte 0xC3 at byte offset 5); the file must be UTF-8 text")]
    [InlineData(new byte[] { (byte)'#', 0xED, 0xA0, 0x80 }, "a.hcl:1:2: invalid UTF-8 (byte 0xED at byte offset 1); the file must be UTF-8 text")]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'x', 0x80 }, "a.hcl:1:2: invalid UTF-8 (byte 0x80 at byte offset 4); the file must be UTF-8 text")]
    public void File_WhenBytesAreNotUtf8_ThrowsWithLineAndColumnOfTheBadByte(byte[] bytes, string expected)
    {
        var ex = Assert.Throws<HclParseException>(() => HclFile.Parse(bytes, "a.hcl"));
        Assert.Equal(expected, ex.Message);
    }

    [Fact]
    public void File_WhenJsonBytesAreNotUtf8_ThrowsPositionedError()
    {
        var ex = Assert.Throws<HclParseException>(() => HclFile.Parse([(byte)'{', (byte)'"', 0xFE, (byte)'"'], "a.json"));
        Assert.StartsWith("a.json:1:3: invalid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_Load_FileOfExactlyTheLimit_IsRead()
    {
        using var directory = new TempDirectory("gatehouse-hcl-");
        var path = directory.Combine("config.hcl");
        // Spaces are valid HCL: an empty body.
        File.WriteAllBytes(path, Enumerable.Repeat((byte)' ', HclFile.MaxFileBytes).ToArray());
        Assert.Empty(HclFile.Load(path).Items);
    }

    [Fact]
    public void File_Load_FileLargerThanTheLimit_IsRefusedBeforeItIsRead()
    {
        using var directory = new TempDirectory("gatehouse-hcl-");
        var path = directory.Combine("config.hcl");
        using (var stream = File.OpenWrite(path))
            stream.SetLength(HclFile.MaxFileBytes + 1L); // sparse: nothing is written

        var ex = Assert.Throws<IOException>(() => HclFile.Load(path));
        Assert.Equal("the file is larger than 16 MiB (16777216 bytes), the most a configuration file may hold", ex.Message);
    }

    [Fact]
    public void File_Load_EndlessStream_StopsAtTheLimit()
    {
        // /dev/zero reports no length and never ends: reading it whole would take all memory.
        if (!File.Exists("/dev/zero"))
            return;

        var ex = Assert.Throws<IOException>(() => HclFile.Load("/dev/zero"));
        Assert.StartsWith("the file is larger than 16 MiB", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_Load_ReadsAndParsesAFileUsingThePathInPositions()
    {
        var path = Fixtures.ValidPath("approle-sink.hcl");
        var tree = HclFile.Load(path);
        Assert.Equal(path, tree.Position.File);
        Assert.Equal(["pid_file", "auto_auth", "vault"], tree.Items.Select(i => i.Name));
    }
}
