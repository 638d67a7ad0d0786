using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>
/// The allow-list: every deliberate difference between Go's hcl 1.0.0 and Gatehouse.Hcl, each documented in
/// docs/hcl.md ("Differences from HashiCorp's parser") with its reason. Each entry recognises its own difference as
/// narrowly as it can; a difference that no entry explains fails the differential tests.
/// </summary>
internal static partial class KnownDifferences
{
    private const DifferenceKind GoAccepts = DifferenceKind.GoAcceptsWeReject;
    private const DifferenceKind WeAccept = DifferenceKind.WeAcceptGoRejects;
    private const DifferenceKind Tree = DifferenceKind.Tree;
    private const DifferenceKind Line = DifferenceKind.ErrorLine;

    public static readonly IReadOnlyList<KnownDifference> All =
    [
        // ---- HCL ----
        new(
            "ByteOrderMark",
            "We skip a leading UTF-8 byte order mark (Windows editors write one); hcl calls it an illegal character.",
            [WeAccept, Tree],
            d => d.Mode == "hcl" && d.Bytes.AsSpan().StartsWith("\uFEFF"u8)),
        new(
            "LoneSurrogateEscape",
            "\\uD800 to \\uDFFF name no character: hcl writes U+FFFD in their place, we refuse the escape rather than change the value.",
            [GoAccepts],
            d => d.Mode == "hcl" && SurrogateEscape().IsMatch(d.OurDetail)),
        new(
            "ByteEscapesThatAreNotUtf8",
            "\\x and octal escapes that do not spell UTF-8: hcl puts the raw bytes in the value (a Go string may hold them); a .NET string cannot, and a value that is not text is a mistake, so we refuse it.",
            [GoAccepts],
            d => d.Mode == "hcl" && d.OurDetail.StartsWith("\\x and octal escapes are bytes", StringComparison.Ordinal)
                && d.GoTree.Contains("\"bytes\":", StringComparison.Ordinal)),
        new(
            "ReplacementCharacterInInterpolation",
            "hcl's unquote takes a literal U+FFFD inside ${...} for a decoding error and refuses the string; U+FFFD is a character like any other, so we keep it.",
            [WeAccept, Line],
            d => d.Mode == "hcl" && d.GoStage == "value" && d.GoError.Contains("${", StringComparison.Ordinal)
                && d.GoError.Contains('\uFFFD', StringComparison.Ordinal) && (d.OurError is null || d.OurLine > d.GoLine)),
        new(
            "ErrorBeforeClosingBrace",
            "A missing value or list end just before '}' (a { b = }): hcl 1.0.0 ignores that error when the next token closes the object, drops what it was reading and goes on; Vault's own hcl (v1.0.1-vault-7) reports it, as we do.",
            [GoAccepts, Line],
            d => d.Mode == "hcl" && d.OurDetail.EndsWith("found '}'", StringComparison.Ordinal) && (d.GoOk || d.GoLine >= d.OurLine)),
        new(
            "MissingValueAtEndOfFile",
            "a = at the very end of the file: hcl drops the item without a word; we report the missing value.",
            [GoAccepts],
            d => d.Mode == "hcl" && d.OurDetail.StartsWith("expected a value after '='", StringComparison.Ordinal)
                && d.OurDetail.EndsWith("found end of file", StringComparison.Ordinal)),
        new(
            "NumberGluedToWord",
            "10s, 1.2.3, 0x1Fg: hcl splits them into a number and a new key (a = 10s {} reads as a = 10 and a block s); we refuse them and say to quote the value.",
            [GoAccepts, Line],
            d => d.Mode == "hcl" && d.OurDetail.Contains("after number", StringComparison.Ordinal) && (d.GoOk || d.GoLine >= d.OurLine)),
        new(
            "OpenerOfWhatIsLeftOpen",
            "A string, heredoc, block comment, '{' or '[' left open: we point at where it opens, hcl at where the file (or the line) ends.",
            [Line],
            d => OpenerMessage().IsMatch(d.OurDetail) && d.GoLine >= d.OurLine),
        new(
            "ForgottenAssign",
            "Keys running over several lines are almost always a forgotten '=' (address \"x\"): we point at the second key, hcl at the '=' or '{' that ends the run.",
            [Line],
            d => d.Mode == "hcl" && d.OurDetail.StartsWith("expected '=' or '{' after key", StringComparison.Ordinal) && d.GoLine >= d.OurLine),
        new(
            "LiteralsCheckedWhileParsing",
            "We check literals (escapes, number forms and ranges) as we parse; hcl's decoding checks them only after the whole file parsed, so when a later line has a syntax error hcl names that one first.",
            [Line],
            d => LiteralMessage().IsMatch(d.OurDetail) && d.GoLine > d.OurLine),

        // ---- JSON ----
        new(
            "JsonNull",
            "hcl turns JSON null into an empty string; we keep HclNull, so the binder can tell null from \"\".",
            [Tree],
            d => d.Mode == "json" && CanonicalTree.Canonical(NullsAsEmptyStrings(d.OurTree)) == d.GoTree),
        new(
            "NotJson",
            "hcl's JSON parser accepts much that is not JSON (missing commas or colons, trailing commas, several keys before a colon, an unclosed object, anything after it) and drops what it cannot place; we read JSON strictly (RFC 8259), as encoding/json does.",
            [GoAccepts, Line],
            d => d.Mode == "json" && d.GoJsonValid == false && d.OurError is not null),
        new(
            "JsonArraysHclCannotRead",
            "Valid JSON arrays holding booleans, null or arrays: hcl's JSON parser drops or refuses those elements (its list parser has TODOs there), and a nested array's ']' ends the outer one, so the rest of the document is lost (with any value in it we would refuse); we keep them.",
            [WeAccept, Tree, GoAccepts],
            d => d.Mode == "json" && d.GoJsonValid == true
                && (d.OurError is null ? HasListOfUnreadable(d.OurTree) : UnreadableArrayElement().IsMatch(d.Text))),
        new(
            "JsonEscapesHclCannotRead",
            "Valid JSON escapes \\/ and escaped surrogate pairs (\\ud83d\\ude00): hcl unquotes JSON strings as Go strings, which have neither; we read them as JSON does.",
            [WeAccept, Line],
            d => d.Mode == "json" && d.GoJsonValid == true && JsonOnlyEscape().IsMatch(d.Text)
                && (d.OurError is null || d.OurLine > d.GoLine)),
    ];

    // "escape \u encodes U+D800, which is not a valid Unicode code point"
    [GeneratedRegex(@"^escape \\u encodes U\+D[89A-F][0-9A-F]{2},")]
    private static partial Regex SurrogateEscape();

    [GeneratedRegex(@"^(unterminated string|unterminated heredoc|unterminated block comment|unclosed '[{\[]')")]
    private static partial Regex OpenerMessage();

    [GeneratedRegex(@"^(escape \\|octal escape|unknown escape|\\x and octal escapes|invalid octal number|integer .* is out of range|number .* is out of range|expected digits in the exponent|expected hexadecimal digits)")]
    private static partial Regex LiteralMessage();

    [GeneratedRegex(@"\\/|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")]
    private static partial Regex JsonOnlyEscape();

    // An array element that is an array, a boolean or null: after '[' or after ',' (which, before a value that is not
    // a key, only happens in arrays).
    [GeneratedRegex(@"[\[,]\s*(\[|true\b|false\b|null\b)")]
    private static partial Regex UnreadableArrayElement();

    private static JsonNode? NullsAsEmptyStrings(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o when o.ContainsKey("null"):
                return new JsonObject { ["string"] = string.Empty };
            case JsonObject o:
                return new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, NullsAsEmptyStrings(p.Value))));
            case JsonArray a:
                return new JsonArray([.. a.Select(NullsAsEmptyStrings)]);
            default:
                return node?.DeepClone();
        }
    }

    private static bool HasListOfUnreadable(JsonNode? node) => node switch
    {
        JsonObject o when o["list"] is JsonArray list && list.Any(e => e is JsonObject eo && (eo.ContainsKey("bool") || eo.ContainsKey("null") || eo.ContainsKey("list"))) => true,
        JsonObject o => o.Any(p => HasListOfUnreadable(p.Value)),
        JsonArray a => a.Any(HasListOfUnreadable),
        _ => false,
    };
}
