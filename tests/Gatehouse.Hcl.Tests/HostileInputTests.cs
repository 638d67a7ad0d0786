using System.Text;

namespace Gatehouse.Hcl.Tests;

/// <summary>
/// Whatever the bytes, parsing either succeeds or throws a positioned <see cref="HclParseException"/>: never another
/// exception, a hang or a stack overflow. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly string[] Insertions =
    [
        "{", "}", "[", "]", "\"", "<<", "<<EOF\n", "<<-EOF\n", "EOF\n", "/*", "*/", "#", "//", "\0", "=", ",", "\\",
        "\\u", "\\U0001", "${", "0x", "08", "-", "1e", "\n", "\r", "\t", "'", "\uFEFF", "é", "\U0001F600",
    ];

    private static readonly string[] Tokens =
    [
        "a", "listener", "\"tcp\"", "{", "}", "[", "]", "=", ",", "1", "-2", "0640", "0x1F", "1.5e3", "true", "false",
        "\"x\\n\"", "\"${a}\"", "<<EOF\nx\nEOF\n", "<<-EOT\n  y\n  EOT\n", "# c\n", "// c\n", "/* c */", "\n", "null",
        "\"", "<<", "/*", "\\", ":", "09", "1e", "\"\\q\"", "@",
    ];

    [Fact]
    public void Fuzz_MutatedFixtures_OnlyEverThrowHclParseException()
    {
        var fixtures = Fixtures.ValidFiles().Select(f => (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f))).ToArray();
        for (var seed = 0; seed < 4000; seed++)
        {
            var random = new Random(seed);
            var (name, original) = fixtures[random.Next(fixtures.Length)];
            var bytes = Mutate(random, original);

            // HclFile picks the syntax by content; each parser also gets every mutant, since a broken JSON file is
            // also interesting HCL, and the reverse.
            AssertOnlyParseErrors(seed, bytes, name);
            AssertOnlyParseErrors(seed, bytes, "m.hcl", Syntax.Hcl);
            AssertOnlyParseErrors(seed, bytes, "m.json", Syntax.Json);
        }
    }

    [Fact]
    public void Fuzz_RandomTokenSoup_OnlyEverThrowsHclParseException()
    {
        for (var seed = 0; seed < 4000; seed++)
        {
            var random = new Random(1_000_000 + seed);
            var sb = new StringBuilder();
            var count = random.Next(1, 60);
            for (var i = 0; i < count; i++)
            {
                sb.Append(Tokens[random.Next(Tokens.Length)]).Append(random.Next(4) == 0 ? "\n" : " ");
            }

            var bytes = Encoding.UTF8.GetBytes(sb.ToString());
            AssertOnlyParseErrors(seed, bytes, "soup.hcl", Syntax.Hcl);
            AssertOnlyParseErrors(seed, bytes, "soup.json", Syntax.Json);
        }
    }

    [Fact]
    public void Fuzz_EveryTruncationOfEveryFixture_OnlyEverThrowsHclParseException()
    {
        foreach (var file in Fixtures.ValidFiles())
        {
            var bytes = File.ReadAllBytes(file);
            for (var length = 0; length < bytes.Length; length++)
            {
                AssertOnlyParseErrors(length, bytes[..length], Path.GetFileName(file));
            }
        }
    }

    [Theory]
    [InlineData("", "a { ")]
    [InlineData("a = ", "[")]
    [InlineData("a = ", "{b = ")]
    [InlineData("a = ", "[{b = ")]
    public void Parser_WhenNestedTenThousandLevelsDeep_ThrowsDepthErrorInsteadOfOverflowing(string prefix, string unit)
    {
        var text = prefix + string.Concat(Enumerable.Repeat(unit, 10_000));
        var ex = Assert.Throws<HclParseException>(() => HclParser.Parse(text, "t.hcl"));

        // The error points at the opening token of the 1,001st level.
        var openings = unit.Count(c => c is '{' or '[');
        var units = HclParser.MaxNestingDepth / openings;
        var column = prefix.Length + (unit.Length * units) + unit.IndexOfAny(['{', '[']) + 1;
        Assert.Equal($"t.hcl:1:{column}: nesting deeper than 1000 levels", ex.Message);
    }

    [Fact]
    public void JsonParser_WhenArraysNestTenThousandLevelsDeep_ThrowsDepthError()
    {
        var text = "{\"a\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var ex = Assert.Throws<HclParseException>(() => HclJsonParser.Parse(text, "t.json"));
        Assert.Equal($"t.json:1:{5 + HclParser.MaxNestingDepth}: nesting deeper than 1000 levels", ex.Message);
    }

    [Fact]
    public void Parser_WhenFileIsTenMegabytes_ParsesEveryItem()
    {
        const string block = "listener \"tcp\" {\n  address = \"127.0.0.1:8100\" # local\n  tls_disable = true\n  ports = [1, 2, 0x3]\n}\n";
        var repeats = (10 * 1024 * 1024 / block.Length) + 1;
        var text = new StringBuilder(block.Length * repeats).Insert(0, block, repeats).ToString();

        var tree = HclFile.Parse(Encoding.UTF8.GetBytes(text), "big.hcl");

        Assert.Equal(repeats, tree.Items.Count);
        Assert.Equal(new SourcePosition("big.hcl", ((repeats - 1) * 5) + 1, 1), tree.Items[^1].Position);
    }

    [Fact]
    public void JsonParser_WhenFileIsTenMegabytesOnOneLine_ParsesEveryElement()
    {
        const string element = "{\"address\":\"127.0.0.1:8100\",\"tls_disable\":true,\"n\":12345},";
        var repeats = (10 * 1024 * 1024 / element.Length) + 1;
        var text = "{\"listener\":[" + new StringBuilder().Insert(0, element, repeats).ToString().TrimEnd(',') + "]}";

        var tree = HclFile.Parse(Encoding.UTF8.GetBytes(text), "big.json");

        var list = Assert.IsType<HclList>(tree.Items.Single().Value);
        Assert.Equal(repeats, list.Items.Count);
        Assert.Equal(new SourcePosition("big.json", 1, 14 + ((repeats - 1) * element.Length)), list.Items[^1].Position);
    }

    [Fact]
    public void Parser_WhenHugeFileHasAnErrorAtTheEnd_ReportsItsPosition()
    {
        var text = string.Concat(Enumerable.Repeat("a = 1\n", 500_000)) + "b = \"unterminated";
        var ex = Assert.Throws<HclParseException>(() => HclParser.Parse(text, "t.hcl"));
        Assert.Equal("t.hcl:500001:5: unterminated string: missing closing '\"'", ex.Message);
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        var mutations = random.Next(1, 5);
        for (var m = 0; m < mutations; m++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 20), bytes.Count - at));
                    break;
                default:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Insertions[random.Next(Insertions.Length)]));
                    break;
            }
        }

        return [.. bytes];
    }

    private enum Syntax
    {
        ByContent,
        Hcl,
        Json,
    }

    private static void AssertOnlyParseErrors(int seed, byte[] bytes, string name, Syntax syntax = Syntax.ByContent)
    {
        try
        {
            // Invalid UTF-8 is HclFile's to report; the parsers take text that is already valid.
            if (syntax == Syntax.ByContent || !System.Text.Unicode.Utf8.IsValid(bytes))
            {
                HclFile.Parse(bytes, name);
            }
            else if (syntax == Syntax.Hcl)
            {
                HclParser.Parse(Encoding.UTF8.GetString(bytes), name);
            }
            else
            {
                HclJsonParser.ParseUtf8(bytes, name);
            }
        }
        catch (HclParseException ex)
        {
            if (ex.Position.Line < 1 || ex.Position.Column < 1 || !ex.Message.StartsWith(name + ":", StringComparison.Ordinal))
            {
                Assert.Fail($"seed {seed}, {name}: badly positioned error {ex.Message}\ninput: {Show(bytes)}");
            }
        }
        catch (Exception ex)
        {
            Assert.Fail($"seed {seed}, {name}: {ex.GetType().Name}: {ex.Message}\ninput: {Show(bytes)}\n{ex.StackTrace}");
        }
    }

    private static string Show(byte[] bytes) => Convert.ToBase64String(bytes) + " = " + Encoding.UTF8.GetString(bytes);
}
