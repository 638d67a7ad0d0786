using System.Text;

namespace Gatehouse.Hcl.Tests;

/// <summary>
/// Regression tests for the differences the differential test (Differential/) found between Gatehouse.Hcl and
/// HashiCorp's Go HCL1 parser, which Vault reads these files with. Each expected value is what Go's hcl 1.0.0 gives.
/// </summary>
public sealed class GoParityTests
{
    private static HclObject Parse(string text) => HclParser.Parse(text, "t.hcl");

    private static string StringValue(string text) => Assert.IsType<HclString>(Parse(text).Items.Single().Value).Value;

    private static HclParseException ParseError(string text) =>
        Assert.Throws<HclParseException>(() => HclParser.Parse(text, "t.hcl"));

    // hcl's unindentHeredoc cuts the anchor and its newline off the end of the token, so a <<EOF whose closing anchor
    // is indented keeps that indentation; <<- keeps the body when a line lacks the closing indentation.
    [Theory]
    [InlineData("a = <<EOF\n  x\n  EOF\n", "  x\n  ")]
    [InlineData("a = <<EOF\nx\n\tEOF\n", "x\n\t")]
    [InlineData("a = <<EOF\nx\n\vEOF\n", "x\n\v")]
    [InlineData("a = <<-EOF\n    x\n  y\n    EOF\n", "    x\n  y\n")]
    [InlineData("a = <<-EOF\n  x\n\n  y\n  EOF\n", "  x\n\n  y\n")]
    [InlineData("a = <<-EOF\nx\n EOF\n", "x\n")]
    [InlineData("a = <<-EOF\n\tx\n\tEOF\n", "x\n")]
    [InlineData("a = <<É\nx\nÉ\n", "x\n")]
    [InlineData("a = <<A1\nb\nA1\n", "b\n")]
    public void Heredoc_ValueIsWhatHclGivesForTheClosingLine(string text, string expected)
    {
        Assert.Equal(expected, StringValue(text));
    }

    // Go's scanner checks for the closing anchor only at a newline, and for <<-EOF it compares the line's length
    // with "-EOF": the closing line must end with a newline, and a <<- closing anchor must be indented.
    [Theory]
    [InlineData("a = <<EOF\nhello\nEOF", "t.hcl:1:5: unterminated heredoc: no line 'EOF' closes it")]
    [InlineData("a = <<-EOF\nx\nEOF\n", "t.hcl:1:5: unterminated heredoc: no line 'EOF' closes it")]
    [InlineData("a = <<EOF\nx\nEOF  \n", "t.hcl:1:5: unterminated heredoc: no line 'EOF' closes it")]
    public void Heredoc_ClosingLineThatHclDoesNotAccept_IsUnterminated(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    // hcl.Parse turns every "\r\n" into "\n" before scanning, so CRLF files give LF values.
    [Theory]
    [InlineData("a = <<EOF\r\nline\r\nEOF\r\n", "line\n")]
    [InlineData("a = <<-EOF\r\n  x\r\n  EOF\r\n", "x\n")]
    [InlineData("a = \"${a\r\nb}\"", "${a\nb}")]
    public void CrLf_IsReadAsLf(string text, string expected)
    {
        Assert.Equal(expected, StringValue(text));
    }

    [Fact]
    public void CrLf_PositionsAndSnippetsAreUnchanged()
    {
        var tree = Parse("a = 1\r\nb = <<EOF\r\nx\r\nEOF\r\nc = 2\r\n");
        Assert.Equal(new SourcePosition("t.hcl", 5, 5), tree.Items[2].Value.Position);
        var ex = ParseError("a = 1\r\nb = 5s\r\n");
        Assert.Equal("t.hcl:2:6: unexpected character 's' after number 5; values such as 10s or 1.2.3 must be quoted strings", ex.Message);
        Assert.Equal("b = 5s\n     ^", ex.Snippet);
    }
}
