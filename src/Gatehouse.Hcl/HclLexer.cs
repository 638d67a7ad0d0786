using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Gatehouse.Hcl;

/// <summary>
/// Turns HCL1 text into tokens on demand, following hashicorp/hcl v1's scanner: comments <c>#</c>, <c>//</c> and
/// non-nesting <c>/* */</c>; identifiers with <c>-</c> and <c>.</c>; Go-style string escapes; <c>${...}</c> kept as
/// text; heredocs; decimal, octal (leading 0), hex and float numbers. Newlines are whitespace, as in HCL1.
/// </summary>
internal sealed class HclLexer
{
    // The characters that end the fast scan of a quoted string: everything else is copied as one slice.
    private static readonly SearchValues<char> StringStops = SearchValues.Create("\"\\\n$");

    private readonly string _text;
    private readonly string _file;
    private int _pos;
    private int _line = 1;
    private int _lineStart;
    private List<(byte Value, int Offset)>? _pendingBytes;

    public HclLexer(string text, string file, int start)
    {
        _text = text;
        _file = file;
        _pos = start;

        // Columns are counted from after a byte order mark, which nobody sees in an editor.
        _lineStart = start;
    }

    public HclToken Next()
    {
        SkipTrivia();
        var start = _pos;
        var column = _pos - _lineStart + 1;
        if (_pos >= _text.Length)
        {
            return new HclToken(HclTokenKind.EndOfFile, start, _line, column, string.Empty);
        }

        var c = _text[_pos];
        switch (c)
        {
            case '{': return Punctuation(HclTokenKind.LeftBrace, column);
            case '}': return Punctuation(HclTokenKind.RightBrace, column);
            case '[': return Punctuation(HclTokenKind.LeftBracket, column);
            case ']': return Punctuation(HclTokenKind.RightBracket, column);
            case '=': return Punctuation(HclTokenKind.Assign, column);
            case ',': return Punctuation(HclTokenKind.Comma, column);
            case '"':
                {
                    var line = _line;
                    return new HclToken(HclTokenKind.String, start, line, column, ReadString());
                }

            case '<' when Peek(1) == '<':
                {
                    var line = _line;
                    return new HclToken(HclTokenKind.Heredoc, start, line, column, ReadHeredoc());
                }

            case '-' when char.IsAsciiDigit(Peek(1)):
            case '.' when char.IsAsciiDigit(Peek(1)):
                return ReadNumber(column);
        }

        if (char.IsAsciiDigit(c))
        {
            return ReadNumber(column);
        }

        if (IsIdentifierStart(RuneAt(_pos, out var width)))
        {
            _pos += width;
            while (_pos < _text.Length && IsIdentifierPart(RuneAt(_pos, out width)))
            {
                _pos += width;
            }

            var name = _text.Substring(start, _pos - start);
            return name is "true" or "false"
                ? new HclToken(HclTokenKind.Bool, start, _line, column, name)
                : new HclToken(HclTokenKind.Identifier, start, _line, column, name);
        }

        throw Error(start, UnexpectedCharacter(c));
    }

    // HCL1's identifiers start with a letter of any script (any plane) or '_'.
    internal static bool IsIdentifierStart(Rune r) => Rune.IsLetter(r) || r.Value == '_';

    // HCL1 lets identifiers continue with digits of any script, '-' and '.', so keys like tls-skip and a.b lex as one
    // identifier.
    internal static bool IsIdentifierPart(Rune r) => IsIdentifierStart(r) || Rune.IsDigit(r) || r.Value is '-' or '.';

    private static string UnexpectedCharacter(char c) => c switch
    {
        '\'' => "unexpected character '''; HCL strings use double quotes",
        '<' => "unexpected character '<'; a heredoc starts with <<",
        _ when char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) =>
            $"unexpected character U+{(int)c:X4}",
        _ => $"unexpected character '{c}'",
    };

    private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private HclToken Punctuation(HclTokenKind kind, int column)
    {
        var token = new HclToken(kind, _pos, _line, column, string.Empty);
        _pos++;
        return token;
    }

    private void SkipTrivia()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '\n')
            {
                _pos++;
                _line++;
                _lineStart = _pos;
            }
            else if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '#' || (c == '/' && Peek(1) == '/'))
            {
                var end = _text.IndexOf('\n', _pos);
                _pos = end < 0 ? _text.Length : end;
            }
            else if (c == '/' && Peek(1) == '*')
            {
                // HCL1 block comments do not nest: the first "*/" ends the comment.
                var end = _text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw Error(_pos, "unterminated block comment: '/*' has no matching '*/'");
                }

                AdvanceTo(end + 2);
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>Moves to <paramref name="end"/>, keeping line bookkeeping right across skipped newlines.</summary>
    private void AdvanceTo(int end)
    {
        var skipped = _text.AsSpan(_pos, end - _pos);
        var newlines = skipped.Count('\n');
        if (newlines > 0)
        {
            _line += newlines;
            _lineStart = _pos + skipped.LastIndexOf('\n') + 1;
        }

        _pos = end;
    }

    private string ReadString()
    {
        var open = _pos;
        _pos++;
        var segmentStart = _pos;
        StringBuilder? builder = null;
        var braces = 0;
        while (true)
        {
            if (braces > 0)
            {
                // Inside ${...} HCL1 lets quotes and newlines through and copies the text verbatim: Vault never
                // evaluates interpolation, so we only need to find where it ends. Its scanner still checks the
                // escapes' syntax there, so we do too.
                if (_pos >= _text.Length)
                {
                    throw Error(open, "unterminated string: missing closing '\"'");
                }

                var c = _text[_pos];
                if (c == '{')
                {
                    braces++;
                }
                else if (c == '}')
                {
                    braces--;
                }
                else if (c == '\n')
                {
                    _line++;
                    _lineStart = _pos + 1;
                }
                else if (c == '\\')
                {
                    CheckInterpolationEscape(open);
                    continue;
                }

                _pos++;
                continue;
            }

            var found = _text.AsSpan(_pos).IndexOfAny(StringStops);
            if (found < 0)
            {
                throw Error(open, "unterminated string: missing closing '\"'");
            }

            _pos += found;
            switch (_text[_pos])
            {
                case '"':
                    {
                        var tail = _text.AsSpan(segmentStart, _pos - segmentStart);
                        _pos++;
                        if (builder is null)
                        {
                            return tail.ToString();
                        }

                        AppendText(builder, tail);
                        FlushBytes(builder);
                        return builder.ToString();
                    }

                case '\n':
                    throw Error(open, "unterminated string: a quoted string cannot contain a newline (use \\n or a heredoc)");
                case '$':
                    if (Peek(1) == '{')
                    {
                        braces = 1;
                        _pos++;
                    }

                    _pos++;
                    break;
                default:
                    builder ??= new StringBuilder();
                    AppendText(builder, _text.AsSpan(segmentStart, _pos - segmentStart));
                    ReadEscape(builder, open);
                    segmentStart = _pos;
                    break;
            }
        }
    }

    /// <summary>Decodes one escape at the backslash, with Go's rules (HCL1 unquotes strings the way Go does).</summary>
    private void ReadEscape(StringBuilder builder, int open)
    {
        var backslash = _pos;
        if (_pos + 1 >= _text.Length)
        {
            throw Error(open, "unterminated string: missing closing '\"'");
        }

        var c = _text[_pos + 1];
        _pos += 2;
        if (c != 'x' && c is not (>= '0' and <= '7'))
        {
            FlushBytes(builder);
        }

        switch (c)
        {
            case 'a': builder.Append('\a'); return;
            case 'b': builder.Append('\b'); return;
            case 'f': builder.Append('\f'); return;
            case 'n': builder.Append('\n'); return;
            case 'r': builder.Append('\r'); return;
            case 't': builder.Append('\t'); return;
            case 'v': builder.Append('\v'); return;
            case '\\': builder.Append('\\'); return;
            case '"': builder.Append('"'); return;
            case 'x': AddByte(ReadCodeDigits(backslash, 'x', 2, 16), backslash); return;
            case 'u':
            case 'U':
                {
                    var value = ReadCodeDigits(backslash, c, c == 'u' ? 4 : 8, 16);
                    if (!Rune.IsValid(value))
                    {
                        throw Error(backslash, $"escape \\{c} encodes U+{value:X}, which is not a valid Unicode code point");
                    }

                    builder.Append(new Rune(value).ToString());
                    return;
                }

            case >= '0' and <= '7':
                {
                    _pos--;
                    var value = ReadCodeDigits(backslash, c, 3, 8);
                    if (value > 255)
                    {
                        throw Error(backslash, "octal escape is greater than \\377");
                    }

                    AddByte(value, backslash);
                    return;
                }

            default:
                var shown = char.IsControl(c) ? $"U+{(int)c:X4}" : c.ToString();
                throw Error(backslash, $"unknown escape sequence '\\{shown}' in string");
        }
    }

    /// <summary>
    /// Go's unquote appends <c>\x</c> and octal escapes as raw bytes, so consecutive ones spell UTF-8
    /// (<c>"\xc3\xa9"</c> is <c>é</c>). They wait here, with the offset of each escape, until the next text.
    /// </summary>
    private void AddByte(int value, int backslash)
    {
        _pendingBytes ??= [];
        _pendingBytes.Add(((byte)value, backslash));
    }

    private void AppendText(StringBuilder builder, ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty)
        {
            FlushBytes(builder);
            builder.Append(text);
        }
    }

    private void FlushBytes(StringBuilder builder)
    {
        if (_pendingBytes is not { Count: > 0 } pending)
        {
            return;
        }

        var bytes = new byte[pending.Count];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = pending[i].Value;
        }

        // Go would keep bytes that are not UTF-8 as they are; a .NET string cannot hold them (docs/hcl.md).
        var chars = new char[bytes.Length];
        if (Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            throw Error(pending[read].Offset, "\\x and octal escapes are bytes, and these bytes are not UTF-8 (hcl would put them in the value as they are)");
        }

        builder.Append(chars, 0, written);
        pending.Clear();
    }

    /// <summary>
    /// Skips one escape inside <c>${...}</c>, where the value keeps it as written but Go's scanner still checks
    /// its syntax: a known letter, three octal digits, or two, four or eight hexadecimal digits.
    /// </summary>
    private void CheckInterpolationEscape(int open)
    {
        var backslash = _pos;
        if (_pos + 1 >= _text.Length)
        {
            throw Error(open, "unterminated string: missing closing '\"'");
        }

        var c = _text[_pos + 1];
        _pos += 2;
        switch (c)
        {
            case 'a' or 'b' or 'f' or 'n' or 'r' or 't' or 'v' or '\\' or '"':
                return;
            case 'x':
                ReadCodeDigits(backslash, c, 2, 16);
                return;
            case 'u':
                ReadCodeDigits(backslash, c, 4, 16);
                return;
            case 'U':
                ReadCodeDigits(backslash, c, 8, 16);
                return;
            case >= '0' and <= '7':
                _pos--;
                ReadCodeDigits(backslash, c, 3, 8);
                return;
            default:
                var shown = char.IsControl(c) ? $"U+{(int)c:X4}" : c.ToString();
                throw Error(backslash, $"unknown escape sequence '\\{shown}' in string");
        }
    }

    private int ReadCodeDigits(int backslash, char escape, int count, int radix)
    {
        var value = 0;
        for (var i = 0; i < count; i++)
        {
            var digit = _pos < _text.Length ? DigitValue(_text[_pos]) : -1;
            if (digit < 0 || digit >= radix)
            {
                var kind = radix == 8 ? "octal" : "hexadecimal";
                var shown = escape is >= '0' and <= '7' ? string.Empty : escape.ToString();
                throw Error(backslash, $"escape \\{shown} needs exactly {count} {kind} digits");
            }

            // Cannot overflow: at most 8 hex digits, and the result is checked as a code point by the caller.
            value = unchecked((value * radix) + digit);
            _pos++;
        }

        return value;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private string ReadHeredoc()
    {
        // hashicorp/hcl's scanHeredoc and unindentHeredoc, step for step: Vault users' heredocs mean what they mean
        // there, quirks included (see docs/hcl.md).
        var open = _pos;
        _pos += 2;
        var identStart = _pos;
        if (_pos < _text.Length && _text[_pos] == '-')
        {
            _pos++;
        }

        var nameStart = _pos;
        while (_pos < _text.Length && IsHeredocAnchorPart(RuneAt(_pos, out var width)))
        {
            _pos += width;
        }

        var anchor = _text.AsSpan(nameStart, _pos - nameStart);
        if (anchor.IsEmpty)
        {
            throw Error(open, "expected a heredoc anchor after '<<', as in <<EOF");
        }

        if (_pos < _text.Length && _text[_pos] == '\r' && Peek(1) == '\n')
        {
            _pos++;
        }

        if (_pos >= _text.Length)
        {
            throw Error(open, $"unterminated heredoc: no line '{anchor}' closes it");
        }

        if (_text[_pos] != '\n')
        {
            throw Error(_pos, $"expected a newline after heredoc anchor {anchor}");
        }

        // hcl's anchor runs to the newline (a '\r' before it included); its closing line is matched as
        // ^[[:space:]]*ANCHOR\r*$ and must be at least as long as the anchor with its '-'.
        var ident = _text.AsSpan(identStart, _pos - identStart);
        var name = ident[(ident[0] == '-' ? 1 : 0)..];
        _pos++;
        _line++;
        _lineStart = _pos;
        while (true)
        {
            var newline = _text.IndexOf('\n', _pos);

            // hcl looks for the closing line only at a newline: a closing anchor at the very end is not one.
            if (newline < 0)
            {
                throw Error(open, $"unterminated heredoc: no line '{anchor}' closes it");
            }

            var line = _text.AsSpan(_pos, newline - _pos);
            if (line.Length >= ident.Length && IsClosingLine(line, name))
            {
                _pos = newline;
                return UnindentHeredoc(_text.AsSpan(open, newline + 1 - open));
            }

            _pos = newline + 1;
            _line++;
            _lineStart = _pos;
        }
    }

    private static bool IsHeredocAnchorPart(Rune r) => Rune.IsLetter(r) || r.Value == '_' || Rune.IsDigit(r);

    private static bool IsClosingLine(ReadOnlySpan<char> line, ReadOnlySpan<char> name)
    {
        // [[:space:]] in Go's regexp: ASCII space, \t, \n, \v, \f, \r.
        var rest = line.TrimStart(" \t\n\v\f\r");
        return rest.StartsWith(name) && rest[name.Length..].TrimStart('\r').IsEmpty;
    }

    /// <summary>
    /// hcl's unindentHeredoc on the whole token (<c>&lt;&lt;EOF\n</c> … closing line <c>\n</c>). For <c>&lt;&lt;EOF</c>
    /// it cuts the anchor and its newline off the end, so the closing line's indentation stays in the value. For
    /// <c>&lt;&lt;-EOF</c> it removes the closing line's indentation from every line when every line starts with it
    /// (an empty line does not), and otherwise keeps the body, trimming spaces and tabs at its very end.
    /// </summary>
    private static string UnindentHeredoc(ReadOnlySpan<char> heredoc)
    {
        var idx = heredoc.IndexOf('\n');
        if (heredoc[2] != '-')
        {
            return heredoc[(idx + 1)..(heredoc.Length - idx + 1)].ToString();
        }

        var body = heredoc[(idx + 1)..(heredoc.Length - idx + 2)];
        var prefix = body[(body.LastIndexOf('\n') + 1)..];
        foreach (var range in body.Split('\n'))
        {
            if (!body[range].StartsWith(prefix))
            {
                return heredoc[(idx + 1)..(heredoc.Length - idx + 1)].TrimEnd(" \t").ToString();
            }
        }

        var builder = new StringBuilder(body.Length);
        foreach (var range in body.Split('\n'))
        {
            if (range.End.GetOffset(body.Length) == body.Length)
            {
                break;
            }

            builder.Append(body[range][prefix.Length..]).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The code point at <paramref name="index"/> (U+FFFD for a lone surrogate), and how many chars it takes.</summary>
    private Rune RuneAt(int index, out int width)
    {
        if (Rune.DecodeFromUtf16(_text.AsSpan(index), out var rune, out width) != OperationStatus.Done)
        {
            width = Math.Max(width, 1);
        }

        return rune;
    }

    private HclToken ReadNumber(int column)
    {
        var start = _pos;
        if (_text[_pos] == '-')
        {
            _pos++;
        }

        // hashicorp/hcl's scanNumber: a '.' makes a float whether or not digits follow it ("1." is 1), and a number
        // may start with '.' (".5"), though then without an exponent.
        var hex = false;
        var isFloat = false;
        if (_text[_pos] == '.')
        {
            isFloat = true;
            _pos++;
            SkipDigits();
            if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
            {
                throw Error(start, "expected digits in the exponent of a number");
            }
        }
        else if (_text[_pos] == '0' && Peek(1) is 'x' or 'X')
        {
            hex = true;
            _pos += 2;
            var digitsStart = _pos;
            while (_pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
            {
                _pos++;
            }

            if (_pos == digitsStart)
            {
                throw Error(start, "expected hexadecimal digits after 0x");
            }
        }
        else
        {
            SkipDigits();
            if (_pos < _text.Length && _text[_pos] == '.')
            {
                isFloat = true;
                _pos++;
                SkipDigits();
            }

            if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
            {
                isFloat = true;
                _pos++;
                if (_pos < _text.Length && _text[_pos] is '+' or '-')
                {
                    _pos++;
                }

                var exponentStart = _pos;
                SkipDigits();
                if (_pos == exponentStart)
                {
                    throw Error(start, "expected digits in the exponent of a number");
                }
            }
        }

        var text = _text.Substring(start, _pos - start);
        if (_pos < _text.Length && IsIdentifierPart(RuneAt(_pos, out _)))
        {
            throw Error(_pos, $"unexpected character '{RuneAt(_pos, out _)}' after number {text}; values such as 10s or 1.2.3 must be quoted strings");
        }

        return isFloat ? Float(start, column, text) : Integer(start, column, text, hex);
    }

    private void SkipDigits()
    {
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
    }

    private HclToken Float(int start, int column, string text)
    {
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            throw Error(start, $"number {text} is out of range");
        }

        return new HclToken(HclTokenKind.Number, start, _line, column, text, null, value);
    }

    private HclToken Integer(int start, int column, string text, bool hex)
    {
        var negative = text[0] == '-';
        var digits = text.AsSpan(negative ? 1 : 0);
        var radix = 10;
        if (hex)
        {
            digits = digits[2..];
            radix = 16;
        }
        else if (digits.Length > 1 && digits[0] == '0')
        {
            // HCL1 (like Go's ParseInt with base 0) reads a leading zero as octal: file modes like 0640.
            radix = 8;
            if (digits.ContainsAny('8', '9'))
            {
                throw Error(start, $"invalid octal number {text}: a leading 0 makes a number octal, and 8 and 9 are not octal digits");
            }
        }

        // Accumulate negatively so long.MinValue is representable.
        long value = 0;
        foreach (var c in digits)
        {
            var digit = DigitValue(c);
            if (value < (long.MinValue + digit) / radix)
            {
                throw Error(start, $"integer {text} is out of range for a 64-bit number");
            }

            value = (value * radix) - digit;
        }

        if (!negative)
        {
            if (value == long.MinValue)
            {
                throw Error(start, $"integer {text} is out of range for a 64-bit number");
            }

            value = -value;
        }

        return new HclToken(HclTokenKind.Number, start, _line, column, text, value, value);
    }

    private HclParseException Error(int offset, string detail) => HclErrors.At(_text, _file, offset, detail);
}
