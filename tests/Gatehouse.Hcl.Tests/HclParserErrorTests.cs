namespace Gatehouse.Hcl.Tests;

public sealed class HclParserErrorTests
{
    private static HclParseException ParseError(string text) =>
        Assert.Throws<HclParseException>(() => HclParser.Parse(text, "t.hcl"));

    public static TheoryData<string, string> InvalidInputs => new()
    {
        { "address = \"abc", "t.hcl:1:11: unterminated string: missing closing '\"'" },
        { "a = \"x\ny\"", "t.hcl:1:5: unterminated string: a quoted string cannot contain a newline (use \\n or a heredoc)" },
        { "a = \"${x", "t.hcl:1:5: unterminated string: missing closing '\"'" },
        { "a = \"x\\", "t.hcl:1:5: unterminated string: missing closing '\"'" },
        { "a = 1\nb = <<EOF\nbody\n", "t.hcl:2:5: unterminated heredoc: no line 'EOF' closes it" },
        { "a = <<EOF", "t.hcl:1:5: unterminated heredoc: no line 'EOF' closes it" },
        { "a = <<EOF junk\nEOF\n", "t.hcl:1:10: expected a newline after heredoc anchor EOF" },
        { "a = <<\nEOF\n", "t.hcl:1:5: expected a heredoc anchor after '<<', as in <<EOF" },
        { "a = 1\n  /* never closed", "t.hcl:2:3: unterminated block comment: '/*' has no matching '*/'" },
        { "vault {\n  address = \"x\"\n", "t.hcl:1:7: unclosed '{': no matching '}' before the end of the file" },
        { "a {\n b { c = 1 }\n d {\n", "t.hcl:3:4: unclosed '{': no matching '}' before the end of the file" },
        { "a = [1,\n 2", "t.hcl:1:5: unclosed '[': no matching ']' before the end of the file" },
        { "}", "t.hcl:1:1: unexpected '}' with no matching '{'" },
        { "a = 1 }", "t.hcl:1:7: unexpected '}' with no matching '{'" },
        { "= 5", "t.hcl:1:1: expected an attribute or block name, found '='" },
        { "a { ] }", "t.hcl:1:5: expected an attribute, a block or '}', found ']'" },
        { "address 5", "t.hcl:1:9: expected '=' or '{' after key \"address\", found number 5" },
        { "address", "t.hcl:1:8: expected '=' or '{' after key \"address\", found end of file" },
        { "vault {\n  address \"x\"\n  tls = true\n}", "t.hcl:2:11: expected '=' or '{' after key \"address\", found string \"x\"" },
        { "listener \"tcp\" = {}", "t.hcl:1:16: expected '{' after the labels of block \"listener\", found '='" },
        { "a = foo", "t.hcl:1:5: expected a value after '=' for \"a\", found identifier foo; strings must be quoted: \"foo\"" },
        { "a = ", "t.hcl:1:5: expected a value after '=' for \"a\", found end of file" },
        { "a = = 1", "t.hcl:1:5: expected a value after '=' for \"a\", found '='" },
        { "a = [1 2]", "t.hcl:1:8: expected ',' or ']' after a list element, found number 2" },
        { "a = [=]", "t.hcl:1:6: expected a value in list, found '='" },
        { "a = \"\\q\"", "t.hcl:1:6: unknown escape sequence '\\q' in string" },
        { "a = \"\\u12\"", "t.hcl:1:6: escape \\u needs exactly 4 hexadecimal digits" },
        { "a = \"\\UFFFFFFFF\"", "t.hcl:1:6: escape \\U encodes U+FFFFFFFF, which is not a valid Unicode code point" },
        { "a = \"\\uD800\"", "t.hcl:1:6: escape \\u encodes U+D800, which is not a valid Unicode code point" },
        { "a = \"\\400\"", "t.hcl:1:6: octal escape is greater than \\377" },
        { "mode = 08", "t.hcl:1:8: invalid octal number 08: a leading 0 makes a number octal, and 8 and 9 are not octal digits" },
        { "a = 0x", "t.hcl:1:5: expected hexadecimal digits after 0x" },
        { "a = 1e", "t.hcl:1:5: expected digits in the exponent of a number" },
        { "ttl = 10s", "t.hcl:1:9: unexpected character 's' after number 10; values such as 10s or 1.2.3 must be quoted strings" },
        { "a = 9223372036854775808", "t.hcl:1:5: integer 9223372036854775808 is out of range for a 64-bit number" },
        { "a = 1e999", "t.hcl:1:5: number 1e999 is out of range" },
        { "a = 'x'", "t.hcl:1:5: unexpected character '''; HCL strings use double quotes" },
        { "a = @", "t.hcl:1:5: unexpected character '@'" },
        { "a = -x", "t.hcl:1:5: unexpected character '-'" },
        { "a = 1\u0001", "t.hcl:1:6: unexpected character U+0001" },
        { "a = 1\n\nb = \"x\0\"", "t.hcl:3:7: NUL byte in input; a configuration file must be text" },
        { "true = 1", "t.hcl:1:1: expected an attribute or block name, found true" },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void Parser_WhenInputIsInvalid_ThrowsPositionedMessage(string text, string expected)
    {
        Assert.Equal(expected, ParseError(text).Message);
    }

    [Fact]
    public void Parser_WhenErrorIsReported_SnippetShowsLineAndCaretUnderColumn()
    {
        var ex = ParseError("vault {\n  address 5\n}");
        Assert.Equal(new SourcePosition("t.hcl", 2, 11), ex.Position);
        Assert.Equal("expected '=' or '{' after key \"address\", found number 5", ex.Detail);
        Assert.Equal("  address 5\n          ^", ex.Snippet);
    }

    [Fact]
    public void Parser_WhenLineIsIndentedWithTabs_KeepsTabsBeforeCaretSoItAligns()
    {
        var ex = ParseError("vault {\n\t\taddress 5\r\n}");
        Assert.Equal(new SourcePosition("t.hcl", 2, 11), ex.Position);
        Assert.Equal("\t\taddress 5\n\t\t        ^", ex.Snippet);
    }

    [Fact]
    public void Parser_WhenLineIsHuge_SnippetShowsAWindowAroundTheColumn()
    {
        var ex = ParseError(new string(' ', 100_000) + "@");
        Assert.Equal(100_001, ex.Position.Column);
        var lines = ex.Snippet.Split('\n');
        Assert.True(lines[0].Length <= 120);
        Assert.Equal(lines[0].IndexOf('@', StringComparison.Ordinal), lines[1].IndexOf('^', StringComparison.Ordinal));
    }

    [Fact]
    public void Parser_WhenNulByteIsPresent_SnippetReplacesItWithAVisibleCharacter()
    {
        var ex = ParseError("a = \0");
        Assert.Equal("a = ?\n    ^", ex.Snippet);
    }

    [Fact]
    public void Parser_WhenErrorFollowsByteOrderMark_ColumnIgnoresTheMark()
    {
        Assert.Equal("t.hcl:1:3: expected '=' or '{' after key \"a\", found number 5", ParseError("\uFEFFa 5").Message);
    }
}
