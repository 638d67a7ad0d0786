namespace Gatehouse.Hcl.Tests;

public sealed class SourcePositionTests
{
    [Fact]
    public void ToString_FormatsAsFileLineColumn()
    {
        Assert.Equal("agent.hcl:12:7", new SourcePosition("agent.hcl", 12, 7).ToString());
    }

    [Fact]
    public void ParseException_MessageStartsWithPosition_AndDisplayAddsSnippet()
    {
        var ex = new HclParseException(new SourcePosition("a.hcl", 2, 3), "expected '='", "x y\n  ^");
        Assert.Equal("a.hcl:2:3: expected '='", ex.Message);
        Assert.Equal("a.hcl:2:3: expected '='\nx y\n  ^", ex.ToDisplayString());
    }
}
