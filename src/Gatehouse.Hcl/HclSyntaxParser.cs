using System.Runtime.CompilerServices;

namespace Gatehouse.Hcl;

/// <summary>
/// Recursive-descent parser over <see cref="HclLexer"/> with one token of lookahead, mirroring hashicorp/hcl v1's
/// grammar: a file is an object body; an item is one or more keys followed by <c>= value</c> or <c>{ body }</c>.
/// Recursion is bounded by <see cref="HclParser.MaxNestingDepth"/>, so hostile nesting gets a positioned error
/// instead of a stack overflow (which .NET cannot catch).
/// </summary>
internal sealed class HclSyntaxParser
{
    private readonly string _text;
    private readonly string _file;
    private readonly HclLexer _lexer;
    private HclToken _token;
    private int _depth;

    public HclSyntaxParser(string text, string file, int start)
    {
        _text = text;
        _file = file;
        _lexer = new HclLexer(text, file, start);
    }

    public HclObject ParseFile()
    {
        _token = _lexer.Next();
        var items = new List<HclObjectItem>();
        while (_token.Kind != HclTokenKind.EndOfFile)
        {
            if (_token.Kind == HclTokenKind.RightBrace)
            {
                throw Error(_token, "unexpected '}' with no matching '{'");
            }

            items.Add(ParseItem(topLevel: true));
        }

        return new HclObject(items, new SourcePosition(_file, 1, 1));
    }

    private void Advance() => _token = _lexer.Next();

    private SourcePosition Position(in HclToken token) => new(_file, token.Line, token.Column);

    private HclObjectItem ParseItem(bool topLevel)
    {
        var keys = new List<HclKey>(2);
        while (_token.Kind is HclTokenKind.Identifier or HclTokenKind.String)
        {
            keys.Add(new HclKey(_token.Text, _token.Kind == HclTokenKind.String, Position(_token)));
            Advance();
        }

        if (keys.Count == 0)
        {
            var expected = topLevel ? "an attribute or block name" : "an attribute, a block or '}'";
            throw Error(_token, $"expected {expected}, found {Describe(_token)}");
        }

        HclNode value;
        bool assigned;
        if (_token.Kind == HclTokenKind.LeftBrace)
        {
            value = ParseObject();
            assigned = false;
        }
        else if (_token.Kind == HclTokenKind.Assign && keys.Count == 1)
        {
            Advance();
            value = ParseValue($"after '=' for \"{keys[0].Name}\"");
            assigned = true;
        }
        else
        {
            throw MissingAssignOrBrace(keys);
        }

        // HCL1 allows a comma after an object item; newlines are plain whitespace to it.
        if (_token.Kind == HclTokenKind.Comma)
        {
            Advance();
        }

        return new HclObjectItem(keys, value, assigned, keys[0].Position);
    }

    /// <summary>
    /// Keys that run over several lines are almost always a forgotten '=' (<c>address "x"</c> followed by the next
    /// attribute), so point at the first key's value rather than at wherever the run of keys happened to stop.
    /// </summary>
    private HclParseException MissingAssignOrBrace(List<HclKey> keys)
    {
        if (keys.Count == 1)
        {
            return Error(_token, $"expected '=' or '{{' after key \"{keys[0].Name}\", found {Describe(_token)}");
        }

        if (keys[^1].Position.Line != keys[0].Position.Line || _token.Line != keys[0].Position.Line)
        {
            var second = keys[1];
            var found = second.Quoted ? $"string {Quote(second.Name)}" : $"identifier {second.Name}";
            return HclErrors.At(second.Position, LineAt(second.Position.Line), $"expected '=' or '{{' after key \"{keys[0].Name}\", found {found}");
        }

        return Error(_token, $"expected '{{' after the labels of block \"{keys[0].Name}\", found {Describe(_token)}");
    }

    private HclNode ParseValue(string context)
    {
        var token = _token;
        switch (token.Kind)
        {
            case HclTokenKind.String:
            case HclTokenKind.Heredoc:
                Advance();
                return new HclString(token.Text, Position(token));
            case HclTokenKind.Number:
                Advance();
                return new HclNumber(token.Text, token.Integer, token.Number, Position(token));
            case HclTokenKind.Bool:
                Advance();
                return new HclBool(token.Text == "true", Position(token));
            case HclTokenKind.LeftBrace:
                return ParseObject();
            case HclTokenKind.LeftBracket:
                return ParseList();
            case HclTokenKind.Identifier:
                throw Error(token, $"expected a value {context}, found identifier {token.Text}; strings must be quoted: \"{token.Text}\"");
            default:
                throw Error(token, $"expected a value {context}, found {Describe(token)}");
        }
    }

    private HclObject ParseObject()
    {
        var open = _token;
        Enter(open);
        Advance();
        var items = new List<HclObjectItem>();
        while (true)
        {
            if (_token.Kind == HclTokenKind.RightBrace)
            {
                Advance();
                break;
            }

            if (_token.Kind == HclTokenKind.EndOfFile)
            {
                throw Error(open, "unclosed '{': no matching '}' before the end of the file");
            }

            items.Add(ParseItem(topLevel: false));
        }

        _depth--;
        return new HclObject(items, Position(open));
    }

    private HclList ParseList()
    {
        var open = _token;
        Enter(open);
        Advance();
        var items = new List<HclNode>();
        while (true)
        {
            if (_token.Kind == HclTokenKind.RightBracket)
            {
                Advance();
                break;
            }

            if (_token.Kind == HclTokenKind.EndOfFile)
            {
                throw Error(open, "unclosed '[': no matching ']' before the end of the file");
            }

            // hcl's listType skips any number of commas, and (a quirk we keep, since Vault reads lists with it)
            // does not ask for one after a nested list: [1,,2], [,] and [[1] [2]] are lists.
            if (_token.Kind == HclTokenKind.Comma)
            {
                Advance();
                continue;
            }

            var nested = _token.Kind == HclTokenKind.LeftBracket;
            items.Add(ParseValue("in list"));
            if (_token.Kind == HclTokenKind.Comma)
            {
                Advance();
            }
            else if (!nested && _token.Kind is not (HclTokenKind.RightBracket or HclTokenKind.EndOfFile))
            {
                throw Error(_token, $"expected ',' or ']' after a list element, found {Describe(_token)}");
            }
        }

        _depth--;
        return new HclList(items, Position(open));
    }

    private void Enter(in HclToken open)
    {
        if (++_depth > HclParser.MaxNestingDepth)
        {
            throw Error(open, $"nesting deeper than {HclParser.MaxNestingDepth} levels");
        }

        // Belt and braces for callers on small-stack threads: the depth limit assumes a normal stack.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(open, "nesting too deep for the available stack");
        }
    }

    private static string Describe(in HclToken token) => token.Kind switch
    {
        HclTokenKind.EndOfFile => "end of file",
        HclTokenKind.Identifier => $"identifier {token.Text}",
        HclTokenKind.String => $"string {Quote(token.Text)}",
        HclTokenKind.Heredoc => "heredoc",
        HclTokenKind.Number => $"number {token.Text}",
        HclTokenKind.Bool => token.Text,
        HclTokenKind.LeftBrace => "'{'",
        HclTokenKind.RightBrace => "'}'",
        HclTokenKind.LeftBracket => "'['",
        HclTokenKind.RightBracket => "']'",
        HclTokenKind.Assign => "'='",
        HclTokenKind.Comma => "','",
        _ => token.Kind.ToString(),
    };

    private static string Quote(string value)
    {
        const int max = 40;
        var shown = value.Length > max ? string.Concat(value.AsSpan(0, max), "...") : value;
        return $"\"{shown.Replace("\n", "\\n", StringComparison.Ordinal)}\"";
    }

    private ReadOnlySpan<char> LineAt(int line)
    {
        var start = 0;
        for (var i = 1; i < line; i++)
        {
            start = _text.IndexOf('\n', start) + 1;
        }

        var end = _text.IndexOf('\n', start);
        return _text.AsSpan(start, (end < 0 ? _text.Length : end) - start);
    }

    private HclParseException Error(in HclToken token, string detail) => HclErrors.At(_text, _file, token.Offset, detail);
}
