namespace Gatehouse.Hcl.Tests;

public sealed class HclParserTests
{
    private static HclObject Parse(string text) => HclParser.Parse(text, "t.hcl");

    private static HclNode ValueOf(string text) => Parse(text).Items.Single().Value;

    [Theory]
    [InlineData("a = 1", "{a=1}")]
    [InlineData("a = \"x\"\nb = true\nc = false", "{a=\"x\" b=true c=false}")]
    [InlineData("a = 1, b = 2", "{a=1 b=2}")]
    [InlineData("a = 1 b = 2", "{a=1 b=2}")]
    [InlineData("vault { address = \"x\" }", "{vault {address=\"x\"}}")]
    [InlineData("config = { a = 1 }", "{config={a=1}}")]
    [InlineData("listener \"tcp\" { }", "{listener \"tcp\" {}}")]
    [InlineData("method approle { }", "{method approle {}}")]
    [InlineData("a \"b\" c \"d\" { e = 1 }", "{a \"b\" c \"d\" {e=1}}")]
    [InlineData("\"quoted key\" = 1", "{\"quoted key\"=1}")]
    [InlineData("a { b { c { d = [] } } }", "{a {b {c {d=[]}}}}")]
    [InlineData("a = {}\nb {}", "{a={} b {}}")]
    [InlineData("a = { b = 1, c = 2, }", "{a={b=1 c=2}}")]
    [InlineData("", "{}")]
    [InlineData("\uFEFFa = 1", "{a=1}")]
    public void Parser_WhenGivenItems_BuildsTheTree(string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(Parse(text)));
    }

    [Theory]
    [InlineData("auto_auth = 1", "auto_auth")]
    [InlineData("tls-skip = 1", "tls-skip")]
    [InlineData("a.b.c = 1", "a.b.c")]
    [InlineData("_x9-y.z = 1", "_x9-y.z")]
    [InlineData("clé = 1", "clé")]
    public void Parser_WhenIdentifierHasDashesDotsOrDigits_LexesOneKey(string text, string key)
    {
        var item = Parse(text).Items.Single();
        Assert.Equal(key, item.Name);
        Assert.False(item.Keys[0].Quoted);
    }

    [Theory]
    [InlineData("# hash\na = 1", "{a=1}")]
    [InlineData("// slashes\na = 1 // trailing", "{a=1}")]
    [InlineData("/* block\n comment */ a = 1", "{a=1}")]
    [InlineData("/* /* not nested */ a = 1", "{a=1}")]
    [InlineData("a = [ # in list\n 1, /* x */ 2 // y\n]", "{a=[1,2]}")]
    [InlineData("a = \"# not a comment\"", "{a=\"# not a comment\"}")]
    public void Parser_WhenCommentsArePresent_IgnoresThem(string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(Parse(text)));
    }

    [Theory]
    [InlineData(@"a = ""x\ny""", "x\ny")]
    [InlineData(@"a = ""\t\r\\\""""", "\t\r\\\"")]
    [InlineData(@"a = ""\u00e9\U0001F600""", "é\U0001F600")]
    [InlineData(@"a = ""\x41\101""", "AA")]
    [InlineData(@"a = ""\a\b\f\v""", "\a\b\f\v")]
    [InlineData(@"a = ""${var.x}""", "${var.x}")]
    [InlineData(@"a = ""pre ${lookup(var.m, ""k"")} post""", @"pre ${lookup(var.m, ""k"")} post")]
    [InlineData("a = \"${a\nb}\"", "${a\nb}")]
    [InlineData(@"a = ""cost $5""", "cost $5")]
    [InlineData(@"a = """"", "")]
    public void Parser_WhenStringHasEscapesOrInterpolation_DecodesEscapesAndKeepsInterpolation(string text, string expected)
    {
        Assert.Equal(expected, Assert.IsType<HclString>(ValueOf(text)).Value);
    }

    [Theory]
    [InlineData("a = <<EOF\nhello\nworld\nEOF\n", "hello\nworld\n")]
    [InlineData("a = <<EOF\nEOF\n", "")]
    [InlineData("a = <<EOF\n  keep\n    indent\nEOF\n", "  keep\n    indent\n")]
    [InlineData("a = <<EOF\r\nline\r\nEOF\r\n", "line\n")]
    [InlineData("a = <<EOT\nnot EOF\nEOFX\nEOT\n", "not EOF\nEOFX\n")]
    [InlineData("a = <<EOF\n  x\n  EOF\n", "  x\n  ")]
    [InlineData("a = <<-EOF\n    x\n      y\n    EOF\n", "x\n  y\n")]
    [InlineData("a = <<-EOF\n\tx\n\tEOF\n", "x\n")]
    [InlineData("a = <<-EOF\n    x\n  y\n    EOF\n", "    x\n  y\n")]
    [InlineData("a = <<-EOF\n    x\n    y\n  EOF\n", "  x\n  y\n")]
    [InlineData("a = <<-EOF\n    x\n\n    y\n    EOF\n", "    x\n\n    y\n")]
    public void Parser_WhenValueIsHeredoc_KeepsTrailingNewlineAndUnindentsLikeHcl1(string text, string expected)
    {
        Assert.Equal(expected, Assert.IsType<HclString>(ValueOf(text)).Value);
    }

    [Fact]
    public void Parser_WhenHeredocIsFollowedByMoreItems_ContinuesAfterTheClosingLine()
    {
        var tree = Parse("a = <<EOF\nx\nEOF\nb = 2\n");
        Assert.Equal("{a=\"x\\n\" b=2}", TreeDump.Dump(tree));
        Assert.Equal(new SourcePosition("t.hcl", 4, 5), tree.Items[1].Value.Position);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("-7", -7L)]
    [InlineData("0640", 416L)]
    [InlineData("-0640", -416L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0XfF", 255L)]
    [InlineData("-0x10", -16L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Parser_WhenNumberIsInteger_SetsIntegerAndKeepsText(string literal, long expected)
    {
        var number = Assert.IsType<HclNumber>(ValueOf($"a = {literal}"));
        Assert.Equal(literal, number.Text);
        Assert.Equal(expected, number.Integer);
        Assert.Equal(expected, number.Value);
    }

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("-0.25", -0.25)]
    [InlineData("1e3", 1000.0)]
    [InlineData("1.5E-2", 0.015)]
    [InlineData("2e+2", 200.0)]
    [InlineData("0.5", 0.5)]
    [InlineData("08.5", 8.5)]
    public void Parser_WhenNumberIsFloat_LeavesIntegerNull(string literal, double expected)
    {
        var number = Assert.IsType<HclNumber>(ValueOf($"a = {literal}"));
        Assert.Equal(literal, number.Text);
        Assert.Null(number.Integer);
        Assert.Equal(expected, number.Value, 12);
    }

    [Theory]
    [InlineData("a = [1, 2, 3]", "{a=[1,2,3]}")]
    [InlineData("a = [\n  \"x\",\n  \"y\",\n]", "{a=[\"x\",\"y\"]}")]
    [InlineData("a = []", "{a=[]}")]
    [InlineData("a = [[1], [2, [3]]]", "{a=[[1],[2,[3]]]}")]
    [InlineData("a = [{ b = 1 }, { c = 2 }]", "{a=[{b=1},{c=2}]}")]
    [InlineData("a = [<<EOF\nx\nEOF\n, true]", "{a=[\"x\\n\",true]}")]
    public void Parser_WhenValueIsList_KeepsElementsInOrder(string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(Parse(text)));
    }

    [Fact]
    public void Parser_WhenBlocksAndKeysRepeat_KeepsEveryItemInSourceOrder()
    {
        var tree = Parse("listener \"tcp\" { a = 1 }\nlistener \"unix\" { a = 2 }\nx = 1\nx = 2\nlistener \"tcp\" { a = 3 }");
        Assert.Equal(["listener", "listener", "x", "x", "listener"], tree.Items.Select(i => i.Name));
        Assert.Equal(["tcp", "unix", "tcp"], tree.Items.Where(i => i.Name == "listener").Select(i => i.Keys[1].Name));
    }

    [Fact]
    public void Parser_WhenItemUsesAssignOrBlock_SetsAssigned()
    {
        var tree = Parse("a = { }\nb { }\nc \"d\" { }");
        Assert.Equal([true, false, false], tree.Items.Select(i => i.Assigned));
    }

    [Fact]
    public void Parser_EveryNode_CarriesFileLineAndColumn()
    {
        var tree = Parse("# header\nlistener \"tcp\" {\n\taddress = \"x\"\n  ports = [1,\n    2]\n}\n");
        var item = tree.Items[0];
        Assert.Equal(new SourcePosition("t.hcl", 1, 1), tree.Position);
        Assert.Equal(new SourcePosition("t.hcl", 2, 1), item.Position);
        Assert.Equal(new SourcePosition("t.hcl", 2, 1), item.Keys[0].Position);
        Assert.Equal(new SourcePosition("t.hcl", 2, 10), item.Keys[1].Position);
        Assert.True(item.Keys[1].Quoted);
        var body = Assert.IsType<HclObject>(item.Value);
        Assert.Equal(new SourcePosition("t.hcl", 2, 16), body.Position);
        Assert.Equal(new SourcePosition("t.hcl", 3, 2), body.Items[0].Position);
        Assert.Equal(new SourcePosition("t.hcl", 3, 12), body.Items[0].Value.Position);
        var list = Assert.IsType<HclList>(body.Items[1].Value);
        Assert.Equal(new SourcePosition("t.hcl", 4, 11), list.Position);
        Assert.Equal(new SourcePosition("t.hcl", 4, 12), list.Items[0].Position);
        Assert.Equal(new SourcePosition("t.hcl", 5, 5), list.Items[1].Position);
    }

    [Fact]
    public void Parser_WhenCommentsAndHeredocsSpanLines_KeepsLaterPositionsRight()
    {
        var tree = Parse("/* one\ntwo */ a = <<EOF\nx\ny\nEOF\nb = \"${c\nd}\" c = 1");
        Assert.Equal(new SourcePosition("t.hcl", 2, 8), tree.Items[0].Position);
        Assert.Equal(new SourcePosition("t.hcl", 2, 12), tree.Items[0].Value.Position);
        Assert.Equal(new SourcePosition("t.hcl", 6, 1), tree.Items[1].Position);
        Assert.Equal(new SourcePosition("t.hcl", 7, 5), tree.Items[2].Position);
    }

    [Fact]
    public void Parser_WhenNestingIsExactlyTheLimit_Parses()
    {
        var depth = HclParser.MaxNestingDepth;
        var text = "a = " + string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth));
        var node = ValueOf(text);
        for (var i = 1; i < depth; i++)
        {
            node = Assert.Single(Assert.IsType<HclList>(node).Items);
        }

        Assert.Empty(Assert.IsType<HclList>(node).Items);
    }
}
