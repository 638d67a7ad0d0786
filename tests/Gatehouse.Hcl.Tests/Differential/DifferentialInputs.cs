using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>
/// The seeded inputs of the differential tests: token-level mutations of the fixture corpus (HCL and JSON), and small
/// generated documents in both syntaxes. The vocabularies are the corners of HCL1 where parsers tend to disagree:
/// heredocs, escapes, interpolation, unicode, number forms, nesting, comments, commas, duplicate keys.
/// </summary>
internal static partial class DifferentialInputs
{
    /// <summary>Values that may stand after <c>=</c> (and some that almost may).</summary>
    public static readonly string[] HclValues =
    [
        "0", "42", "-7", "0x10", "0X1f", "-0x10", "0xFFFFFFFFFFFFFFFF", "1e3", "1E-2", "1.5", "-0", "-0.0", "010", "0640", "08",
        "09.5", "1.", ".5", "1e", "1e+", "1.e5", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "1e400", "1e-400", "0x", "1.5e+3", "00", "0.000001", "123456789.123456789", "true", "false",
        "\"x\"", "\"\"", "\"\\n\\t\\\"\\\\\"", "\"\\u00e9\"", "\"\\U0001F600\"", "\"\\x41\"", "\"\\101\"", "\"\\xc3\\xa9\"",
        "\"\\xff\"", "\"\\uD800\"", "\"\\uDE00\"", "\"\\400\"", "\"\\q\"", "\"${a}\"", "\"${a\nb}\"", "\"${\"q\"}\"", "\"$${x}\"",
        "\"${a\\q}\"", "\"${a}}\"", "\"${{a}}\"", "\"$\"", "\"é\"", "\"😀\"", "\"\\u12\"", "\"a\u2028b\"", "\"tab\there\"",
        "\"\\a\\b\\f\\v\\r\"", "\"\\/\"", "\"\\'\"", "\"\\$\"", "\"\\U00110000\"", "\"\\xF0\\x9F\\x98\\x80\"", "\"\uFFFD\"",
        "\"${\uFFFD}\"", "\"cr\rhere\"",
        "<<EOF\nx\nEOF\n", "<<EOF\n  x\n  EOF\n", "<<-EOF\n    x\n      y\n    EOF\n", "<<-EOF\nx\nEOF\n",
        "<<EOF\r\nx\r\nEOF\r\n", "<<-EOT\n\tx\n\tEOT\n", "<<EOF\nx\nEOF", "<<EOF\nEOF\n", "<<-EOF\n  x\n\n  y\n  EOF\n",
        "<<EOF\n${a}\n\"q\"\nEOF\n", "<<É\nx\nÉ\n", "<<EOF\nx\n\vEOF\n", "<<EOF\nx\nEOF \n", "<<-EOF\n    x\n  EOF\n",
        "<<-EOF\n  x\n    EOF\n", "<<EOF\nx\r\nEOF\n", "<<A1\nb\nA1\n",
        "[1, 2,]", "[]", "[[1], [2]]", "[[1] [2]]", "[{a = 1}, {b = 2}]", "[\"a\" \"b\"]", "[1,,2]", "[,]", "[true, \"x\", 1.5]",
        "[<<EOF\nx\nEOF\n, 1]", "[{}]", "[{a = 1} {b = 2}]",
        "{ a = 1 }", "{ a { b = 1 } }", "{ a = 1, }", "{}", "{ a = 1 a = 2 }", "{ \"q\" = 1 }", "{ a \"b\" { } }",
    ];

    /// <summary>Tokens to insert, replace with or delete around: syntax, noise and unicode.</summary>
    public static readonly string[] HclTokens =
    [
        "{", "}", "[", "]", "=", ",", ",,", "\"", "<<", "<<EOF\n", "EOF\n", "#", "# c\n", "// c\n", "/* c */", "/*", "*/", "/",
        "\n", "\r\n", "\r", "\t", " ", "'", ":", "@", ".", "-", "+", "0x", "1e", "${", "}", "\\", "$", "\uFEFF", "é", "😀",
        "\u00A0", "\v", "\f", "\uE123", "\uFFFD", "\u2028", "a", "_", "clé", "𝒜b", "a٣", "٣", "a-b.c", "x.", "\"k\"", "null",
        "true", "false", "a = 1\n", "a = 1,", "b {}\n", "c \"d\" {}\n", "a b = 1\n", "= 1", "\"a\" = 2\n", "10s", "1.2.3",
    ];

    private static readonly string[] Keys = ["a", "b", "a", "auto_auth", "\"a\"", "\"quoted key\"", "tls-skip", "a.b", "clé", "\"\\u00e9\"", "x_1"];

    private static readonly string[] JsonValues =
    [
        "0", "-1", "1.5", "1e3", "-0", "-0.0", "1E+2", "9223372036854775807", "9223372036854775808", "123456789012345678901234",
        "1e400", "true", "false", "null", "\"x\"", "\"\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\/\"", "\"\\n\\t\\\"\"",
        "\"${a}\"", "\"é\"", "\"😀\"", "\"\\b\\f\\r\"", "\"\\u0041\"", "[]", "[1, 2]", "[\"a\", \"b\"]", "[{\"a\": 1}, {\"b\": 2}]",
        "[[1], [2]]", "[true]", "[1, {\"a\": 1}]", "{}", "{\"a\": 1}", "{\"a\": {\"b\": {}}}", "{\"a\": {\"b\": 1}, \"c\": {}}",
        "[{}]", "{\"a\": [{\"b\": {\"c\": 1}}]}",
    ];

    private static readonly string[] JsonTokens =
    [
        "{", "}", "[", "]", ":", ",", "\"", "\"k\"", "\"k\": 1,", "\"k\": 1", "null", "true", "01", "1.", ".5", "-", "+1",
        "/* c */", "// c\n", "#", "\n", "\t", "\r", "\\", "'", "é", "\uFEFF", "\u00A0", "0x10", "\"\\x41\"", "\"\\q\"", "NaN",
    ];

    /// <summary>A mutant of one of <paramref name="corpus"/>, deterministic for a seed.</summary>
    public static (string Name, byte[] Bytes) Mutant(int seed, IReadOnlyList<(string Name, string Text)> corpus)
    {
        var random = new Random(seed);
        var (name, text) = corpus[random.Next(corpus.Count)];
        var json = name.EndsWith(".json", StringComparison.Ordinal);
        var tokens = Tokens().Matches(text).Select(m => m.Value).ToList();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            Mutate(random, tokens, json);
        }

        return ($"mutant-{seed}-{name}", Encoding.UTF8.GetBytes(string.Concat(tokens)));
    }

    /// <summary>A small generated HCL document (mostly valid), deterministic for a seed.</summary>
    public static (string Name, byte[] Bytes) GeneratedHcl(int seed)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        var count = random.Next(1, 6);
        for (var i = 0; i < count; i++)
        {
            HclItem(random, sb, depth: 0);
        }

        return ($"generated-{seed}.hcl", Encoding.UTF8.GetBytes(sb.ToString()));
    }

    /// <summary>A small generated JSON document (valid JSON), deterministic for a seed.</summary>
    public static (string Name, byte[] Bytes) GeneratedJson(int seed)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        JsonObject(random, sb, depth: 0);
        return ($"generated-{seed}.json", Encoding.UTF8.GetBytes(sb.ToString()));
    }

    // Strings (with escapes and ${...} on one line), heredoc openers, comments, words, numbers, whitespace runs, and
    // single characters: enough structure that token edits look like a person's edits.
    [GeneratedRegex("""
        "(?:[^"\\\n]|\\.)*"|<<-?\w+|\#[^\n]*|//[^\n]*|/\*.*?\*/|[\p{L}_][\p{L}\p{Nd}_.-]*|-?[0-9][0-9A-Za-z.+-]*|[ \t]+|\r?\n|.
        """, RegexOptions.Singleline)]
    private static partial Regex Tokens();

    private static void Mutate(Random random, List<string> tokens, bool json)
    {
        var vocabulary = json ? JsonTokens : HclTokens;
        var values = json ? JsonValues : HclValues;
        var at = tokens.Count == 0 ? 0 : random.Next(tokens.Count);
        switch (random.Next(9))
        {
            case 0 when tokens.Count > 0:
                tokens[at] = vocabulary[random.Next(vocabulary.Length)];
                break;
            case 1 when tokens.Count > 0:
                tokens.RemoveAt(at);
                break;
            case 2:
                tokens.Insert(at, vocabulary[random.Next(vocabulary.Length)]);
                break;
            case 3 when tokens.Count > 1:
                at = Math.Min(at, tokens.Count - 2);
                (tokens[at], tokens[at + 1]) = (tokens[at + 1], tokens[at]);
                break;
            case 4 when tokens.Count > 0:
                tokens.Insert(at, tokens[at]);
                break;
            case 5:
            case 6:
                {
                    // Replace a value: the token after '=' or ':' (skipping spaces), keeping the document's shape.
                    var assigns = Enumerable.Range(0, tokens.Count).Where(i => tokens[i] == (json ? ":" : "=")).ToList();
                    if (assigns.Count == 0)
                    {
                        goto case 2;
                    }

                    var v = assigns[random.Next(assigns.Count)] + 1;
                    while (v < tokens.Count && string.IsNullOrWhiteSpace(tokens[v]) && !tokens[v].Contains('\n', StringComparison.Ordinal))
                    {
                        v++;
                    }

                    if (v < tokens.Count && !tokens[v].StartsWith("<<", StringComparison.Ordinal) && tokens[v] is not ("{" or "["))
                    {
                        tokens[v] = values[random.Next(values.Length)];
                    }
                    else
                    {
                        tokens.Insert(Math.Min(v, tokens.Count), values[random.Next(values.Length)] + (json ? "," : "\n"));
                    }

                    break;
                }

            case 7:
                {
                    // A new item at the start of a line (or after '{'), with a key that may repeat an existing one.
                    var starts = Enumerable.Range(0, tokens.Count).Where(i => tokens[i] is "\n" or "\r\n" or "{").ToList();
                    var where = starts.Count == 0 ? 0 : starts[random.Next(starts.Count)] + 1;
                    var key = Keys[random.Next(Keys.Length)];
                    var item = json
                        ? $"\"{key.Trim('"')}\": {JsonValues[random.Next(JsonValues.Length)]},"
                        : $"{key} = {HclValues[random.Next(HclValues.Length)]}\n";
                    tokens.Insert(Math.Min(where, tokens.Count), item);
                    break;
                }

            default:
                {
                    // A comment, or a trailing comma, where a person might write one.
                    var lines = Enumerable.Range(0, tokens.Count).Where(i => tokens[i] is "\n" or "\r\n").ToList();
                    var where = lines.Count == 0 ? tokens.Count : lines[random.Next(lines.Count)];
                    string[] extras = json ? [",", " ", "\t"] : ["# note", " // note", " /* note */", ",", " /* a\nb */"];
                    tokens.Insert(where, extras[random.Next(extras.Length)]);
                    break;
                }
        }
    }

    private static void HclItem(Random random, StringBuilder sb, int depth)
    {
        var indent = new string(' ', depth * 2);
        var key = Keys[random.Next(Keys.Length)];
        sb.Append(indent).Append(key);
        var kind = depth >= 3 ? 0 : random.Next(4);
        switch (kind)
        {
            case 0:
            case 1:
                sb.Append(random.Next(3) == 0 ? "=" : " = ").Append(HclValues[random.Next(HclValues.Length)]);
                break;
            case 2:
                {
                    // A block, with labels now and then.
                    var labels = random.Next(3);
                    for (var l = 0; l < labels; l++)
                    {
                        sb.Append(random.Next(2) == 0 ? " \"label\"" : " label");
                    }

                    sb.Append(" {\n");
                    var count = random.Next(0, 4);
                    for (var i = 0; i < count; i++)
                    {
                        HclItem(random, sb, depth + 1);
                    }

                    sb.Append(indent).Append('}');
                    break;
                }

            default:
                {
                    sb.Append(" = [");
                    var count = random.Next(0, 4);
                    for (var i = 0; i < count; i++)
                    {
                        sb.Append(i > 0 ? ", " : string.Empty).Append(HclValues[random.Next(HclValues.Length)]);
                    }

                    sb.Append(random.Next(3) == 0 ? ",]" : "]");
                    break;
                }
        }

        sb.Append(random.Next(5) switch
        {
            0 => ",\n",
            1 => " # comment\n",
            2 => "\r\n",
            _ => "\n",
        });
    }

    private static void JsonObject(Random random, StringBuilder sb, int depth)
    {
        sb.Append('{');
        var count = random.Next(depth == 0 ? 1 : 0, 4);
        for (var i = 0; i < count; i++)
        {
            sb.Append(i > 0 ? ", " : string.Empty).Append('"').Append(Keys[random.Next(Keys.Length)].Trim('"')).Append("\": ");
            JsonValue(random, sb, depth + 1);
        }

        sb.Append('}');
    }

    private static void JsonValue(Random random, StringBuilder sb, int depth)
    {
        switch (depth >= 4 ? 0 : random.Next(4))
        {
            case 0:
            case 1:
                sb.Append(JsonValues[random.Next(JsonValues.Length)]);
                break;
            case 2:
                JsonObject(random, sb, depth);
                break;
            default:
                sb.Append('[');
                var count = random.Next(0, 4);
                for (var i = 0; i < count; i++)
                {
                    sb.Append(i > 0 ? ", " : string.Empty);
                    JsonValue(random, sb, depth + 1);
                }

                sb.Append(']');
                break;
        }
    }
}
