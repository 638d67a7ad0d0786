namespace Gatehouse.Hcl.Tests;

public sealed class HclJsonParserTests
{
    private static HclObject Parse(string text) => HclJsonParser.Parse(text, "t.json");

    [Theory]
    [InlineData("{}", "{}")]
    [InlineData("{\"a\": 1, \"b\": \"x\", \"c\": true, \"d\": false, \"e\": null}", "{\"a\"=1 \"b\"=\"x\" \"c\"=true \"d\"=false \"e\"=null}")]
    [InlineData("{\"a\": [1, 2.5, -3e2, \"s\", [], {}]}", "{\"a\"=[1,2.5,-3e2,\"s\",[],{}]}")]
    [InlineData("{\"listener\": {\"tcp\": {\"address\": \"x\"}}}", "{\"listener\"={\"tcp\"={\"address\"=\"x\"}}}")]
    [InlineData("{\"a\": 1, \"a\": 2}", "{\"a\"=1 \"a\"=2}")]
    [InlineData("{\"s\": \"\\u00e9\\n\\\"${x}\"}", "{\"s\"=\"é\\n\\\"${x}\"}")]
    public void JsonParser_WhenGivenJson_BuildsTheSameAstShapes(string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(Parse(text)));
    }

    [Fact]
    public void JsonParser_EveryPropertyIsAnAssignedItemWithOneQuotedKey()
    {
        var item = Parse("{\"vault\": {\"address\": \"x\"}}").Items.Single();
        Assert.True(item.Assigned);
        Assert.True(Assert.Single(item.Keys).Quoted);
        Assert.Equal("vault", item.Name);
    }

    [Fact]
    public void JsonParser_Numbers_KeepTextAndSetIntegerOnlyForIntegers()
    {
        var items = Parse("{\"i\": 416, \"f\": 0.75, \"e\": 1e3, \"z\": -0, \"min\": -9223372036854775808}").Items;
        var i = Assert.IsType<HclNumber>(items[0].Value);
        Assert.Equal(("416", 416L, 416.0), (i.Text, i.Integer, i.Value));
        var f = Assert.IsType<HclNumber>(items[1].Value);
        Assert.Equal(("0.75", (long?)null, 0.75), (f.Text, f.Integer, f.Value));
        Assert.Null(Assert.IsType<HclNumber>(items[2].Value).Integer);
        Assert.Equal(0L, Assert.IsType<HclNumber>(items[3].Value).Integer);
        Assert.Equal(long.MinValue, Assert.IsType<HclNumber>(items[4].Value).Integer);
    }

    // Vault reads JSON numbers through hcl's tokens: an integer with ParseInt (64 bits), a fraction or exponent with
    // ParseFloat (finite). The same numbers are errors in our HCL syntax; they are in JSON too.
    [Theory]
    [InlineData("{\"a\": 9223372036854775808}", "t.json:1:7: integer 9223372036854775808 is out of range for a 64-bit number")]
    [InlineData("{\"a\":\n  123456789012345678901234}", "t.json:2:3: integer 123456789012345678901234 is out of range for a 64-bit number")]
    [InlineData("{\"a\": [1e400]}", "t.json:1:8: number 1e400 is out of range")]
    [InlineData("{\"a\": -1.5E+999}", "t.json:1:7: number -1.5E+999 is out of range")]
    public void JsonParser_NumbersBeyondWhatVaultReads_AreErrors(string text, string expected)
    {
        Assert.Equal(expected, Assert.Throws<HclParseException>(() => Parse(text)).Message);
    }

    [Fact]
    public void JsonParser_EveryNode_CarriesLineAndColumn()
    {
        var tree = Parse("{\n  \"vault\": {\n\t\"address\": \"é\", \"x\": [1,\n  true]\n  }\n}");
        Assert.Equal(new SourcePosition("t.json", 1, 1), tree.Position);
        var vault = tree.Items[0];
        Assert.Equal(new SourcePosition("t.json", 2, 3), vault.Position);
        Assert.Equal(new SourcePosition("t.json", 2, 12), vault.Value.Position);
        var body = Assert.IsType<HclObject>(vault.Value);
        Assert.Equal(new SourcePosition("t.json", 3, 2), body.Items[0].Keys[0].Position);
        Assert.Equal(new SourcePosition("t.json", 3, 13), body.Items[0].Value.Position);

        // Columns count UTF-16 units: "é" is two bytes but one column.
        Assert.Equal(new SourcePosition("t.json", 3, 18), body.Items[1].Position);
        var list = Assert.IsType<HclList>(body.Items[1].Value);
        Assert.Equal(new SourcePosition("t.json", 3, 24), list.Items[0].Position);
        Assert.Equal(new SourcePosition("t.json", 4, 3), list.Items[1].Position);
    }

    [Theory]
    [InlineData("", "t.json:1:1:")]
    [InlineData("{\"a\": }", "t.json:1:7: invalid JSON:")]
    [InlineData("{\"a\": 1,}", "t.json:1:9: invalid JSON:")]
    [InlineData("{\n  \"a\": \"x", "t.json:2:10: invalid JSON:")]
    [InlineData("{\n  \"a\" 1\n}", "t.json:2:7: invalid JSON:")]
    [InlineData("{\"a\": 1} x", "t.json:1:10: invalid JSON:")]
    [InlineData("{\"a\": tru}", "t.json:1:10: invalid JSON:")]
    [InlineData("{\"a\": \"\\q\"}", "t.json:1:9: invalid JSON:")]
    [InlineData("{\"a\": \"x\0\"}", "t.json:1:9: invalid JSON:")]
    [InlineData("{\"é\": x}", "t.json:1:7: invalid JSON:")]
    [InlineData("{\"a\": 1 // comment\n}", "t.json:1:9: invalid JSON:")]
    [InlineData("[1]", "t.json:1:1: a JSON config must be an object at the top level, found an array")]
    [InlineData("\"x\"", "t.json:1:1: a JSON config must be an object at the top level")]
    public void JsonParser_WhenJsonIsMalformed_ThrowsPositionedError(string text, string expectedPrefix)
    {
        var ex = Assert.Throws<HclParseException>(() => Parse(text));
        Assert.StartsWith(expectedPrefix, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", ex.Message, StringComparison.Ordinal);
        Assert.Contains('^', ex.Snippet);
    }

    [Fact]
    public void JsonParser_WhenNestingExceedsTheLimit_ThrowsPositionedError()
    {
        var text = string.Concat(Enumerable.Repeat("{\"a\":", 10_000));
        var ex = Assert.Throws<HclParseException>(() => Parse(text));
        Assert.Equal($"t.json:1:{(5 * HclParser.MaxNestingDepth) + 1}: nesting deeper than 1000 levels", ex.Message);
    }
}
