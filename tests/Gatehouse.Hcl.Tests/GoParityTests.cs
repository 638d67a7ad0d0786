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

    // Go's unquote appends \x and octal escapes as bytes: together they spell UTF-8.
    [Theory]
    [InlineData(@"a = ""\xc3\xa9""", "é")]
    [InlineData(@"a = ""\303\251\101""", "éA")]
    [InlineData(@"a = ""\xF0\x9F\x98\x80!""", "\U0001F600!")]
    [InlineData(@"a = ""\x41\u00e9\x42""", "AéB")]
    public void ByteEscapes_AreUtf8Bytes(string text, string expected)
    {
        Assert.Equal(expected, StringValue(text));
    }

    [Fact]
    public void ByteEscapes_ThatAreNotUtf8_AreAnErrorAtTheFirstEscape()
    {
        Assert.Equal(
            "t.hcl:1:7: \\x and octal escapes are bytes, and these bytes are not UTF-8 (hcl would put them in the value as they are)",
            ParseError(@"a = ""x\xff\x41""").Message);
        Assert.StartsWith("t.hcl:1:6: \\x and octal escapes", ParseError(@"a = ""\xc3x""").Message, StringComparison.Ordinal);
    }

    // Go's scanner checks escapes inside ${...} too (the value keeps them as written).
    [Theory]
    [InlineData(@"a = ""${a\q}""", "t.hcl:1:9: unknown escape sequence '\\q' in string")]
    [InlineData(@"a = ""${a\u12}""", "t.hcl:1:9: escape \\u needs exactly 4 hexadecimal digits")]
    [InlineData("a = \"${a\\\nb}\"", "t.hcl:1:9: unknown escape sequence '\\U+000A' in string")]
    public void Interpolation_EscapesAreChecked(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    [Theory]
    [InlineData(@"a = ""${a\""b}""", @"${a\""b}")]
    [InlineData(@"a = ""${a\u00e9\n}""", @"${a\u00e9\n}")]
    public void Interpolation_ValidEscapesAreKeptAsWritten(string text, string expected)
    {
        Assert.Equal(expected, StringValue(text));
    }

    // Go's scanner reads "1." and ".5" as floats, and "1.e5" too.
    [Theory]
    [InlineData("1.", 1.0)]
    [InlineData("0.", 0.0)]
    [InlineData(".5", 0.5)]
    [InlineData("1.e5", 100000.0)]
    [InlineData("-2.", -2.0)]
    public void Numbers_DotWithoutDigitsOnOneSide_IsAFloat(string literal, double expected)
    {
        var number = Assert.IsType<HclNumber>(Parse($"a = {literal}").Items.Single().Value);
        Assert.Equal((literal, (long?)null, expected), (number.Text, number.Integer, number.Value));
    }

    [Theory]
    [InlineData("a = .5e3", "t.hcl:1:5: expected digits in the exponent of a number")]
    [InlineData("a = -.5", "t.hcl:1:5: unexpected character '-'")]
    public void Numbers_LeadingDotTakesNoExponentAndNoSign(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    // Identifiers are Unicode letters (any plane) then letters, Unicode decimal digits, '_', '-' and '.'.
    [Theory]
    [InlineData("𝒜b = 1", "𝒜b")]
    [InlineData("a٣ = 1", "a٣")]
    [InlineData("x𝟙 = 1", "x𝟙")]
    public void Identifiers_AreUnicodeLettersAndDigits(string text, string key)
    {
        Assert.Equal(key, Parse(text).Items.Single().Name);
    }

    [Fact]
    public void Identifiers_CannotStartWithAUnicodeDigit()
    {
        Assert.Equal("t.hcl:1:1: unexpected character '٣'", ParseError("٣ = 1").Message);
    }

    // Go's list parser skips any number of commas, and does not ask for one after a nested list.
    [Theory]
    [InlineData("a = [1,,2]", "{a=[1,2]}")]
    [InlineData("a = [,]", "{a=[]}")]
    [InlineData("a = [,,1]", "{a=[1]}")]
    [InlineData("a = [[1] [2]]", "{a=[[1],[2]]}")]
    [InlineData("a = [[1] 2]", "{a=[[1],2]}")]
    public void Lists_ExtraCommasAndNestedListsWithoutComma(string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(Parse(text)));
    }

    [Theory]
    [InlineData("a = [1 [2]]", "t.hcl:1:8: expected ',' or ']' after a list element, found '['")]
    [InlineData("a = [{} {}]", "t.hcl:1:9: expected ',' or ']' after a list element, found '{'")]
    public void Lists_StillNeedACommaAfterALiteralOrAnObject(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    // Go's scanner refuses U+E123 anywhere (it uses it internally).
    [Theory]
    [InlineData("a = \"\uE123\"", "t.hcl:1:6: U+E123 is not allowed in HCL (hcl reserves it for internal use)")]
    [InlineData("# \uE123\na = 1", "t.hcl:1:3: U+E123 is not allowed in HCL (hcl reserves it for internal use)")]
    public void PrivateUseE123_IsRejected(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    // hcl's scanner meets U+E123 only if the parser gets that far: a syntax error before it is reported instead.
    [Theory]
    [InlineData("a = = 1\n# \uE123", "t.hcl:1:5: expected a value after '=' for \"a\", found '='")]
    [InlineData("a = 1\n# \uE123\nb = = 2", "t.hcl:2:3: U+E123 is not allowed in HCL (hcl reserves it for internal use)")]
    [InlineData("a = \"x\uE123", "t.hcl:1:5: unterminated string: missing closing '\"'")]
    public void PrivateUseE123_IsReportedInTurn(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    // hcl.Parse reads JSON when the first non-space character is '{', HCL otherwise, whatever the file is called.
    [Theory]
    [InlineData("agent.hcl", " \n{\"a\": 1}", "{\"a\"=1}")]
    [InlineData("agent.conf", "{\"a\": 1}", "{\"a\"=1}")]
    [InlineData("agent.json", "a = 1", "{a=1}")]
    [InlineData("agent.json", "# JSON? no\na = 1", "{a=1}")]
    public void File_SyntaxIsChosenByContentLikeHcl(string name, string text, string expected)
    {
        Assert.Equal(expected, TreeDump.Dump(HclFile.Parse(Encoding.UTF8.GetBytes(text), name)));
    }
}
