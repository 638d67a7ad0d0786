using System.Text;
using System.Text.Json;

namespace Gatehouse.Hcl;

/// <summary>
/// Parses the JSON form of a Vault config into the HCL AST. Shapes are kept literally (no HCL1 "flattening"
/// heuristics): the configuration binder decides what <c>{"listener": [{"tcp": {...}}]}</c> means.
/// </summary>
public static class HclJsonParser
{
    /// <summary>Parses a Vault JSON config (HCL1's JSON form) into the same AST. Throws <see cref="HclParseException"/>.</summary>
    public static HclObject Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        return ParseUtf8(Encoding.UTF8.GetBytes(text), fileName);
    }

    /// <summary>Parses UTF-8 JSON; the caller has already checked that the bytes are valid UTF-8.</summary>
    internal static HclObject ParseUtf8(ReadOnlySpan<byte> utf8, string fileName)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        // The reader streams tokens, so the tree is built with an explicit stack: no recursion, whatever the input.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            MaxDepth = HclParser.MaxNestingDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        var tracker = new Utf8PositionTracker(fileName);
        var stack = new Stack<Frame>();
        HclObject? root = null;
        var position = new SourcePosition(fileName, 1, 1);
        try
        {
            while (reader.Read())
            {
                position = tracker.Advance(utf8, (int)reader.TokenStartIndex);
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (stack.Count >= HclParser.MaxNestingDepth)
                        {
                            throw Error(utf8, position, $"nesting deeper than {HclParser.MaxNestingDepth} levels");
                        }

                        if (stack.Count == 0 && reader.TokenType == JsonTokenType.StartArray)
                        {
                            throw Error(utf8, position, "a JSON config must be an object at the top level, found an array");
                        }

                        stack.Push(new Frame(reader.TokenType == JsonTokenType.StartObject, position));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        {
                            var node = stack.Pop().Build();
                            if (stack.Count == 0)
                            {
                                root = (HclObject)node;
                            }
                            else
                            {
                                stack.Peek().Add(node);
                            }

                            break;
                        }

                    case JsonTokenType.PropertyName:
                        stack.Peek().PendingKey = new HclKey(reader.GetString()!, quoted: true, position);
                        break;
                    default:
                        if (stack.Count == 0)
                        {
                            throw Error(utf8, position, "a JSON config must be an object at the top level");
                        }

                        stack.Peek().Add(Scalar(ref reader, position, utf8));
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            throw FromJsonException(utf8, fileName, ex);
        }
        catch (InvalidOperationException ex)
        {
            // GetString refuses strings that decode to invalid UTF-16 (an escaped lone surrogate, for one).
            throw Error(utf8, position, $"invalid JSON string: {ex.Message}");
        }

        return root ?? throw Error(utf8, position, "empty JSON document; expected '{'");
    }

    private static HclNode Scalar(ref Utf8JsonReader reader, SourcePosition position, ReadOnlySpan<byte> utf8)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return new HclString(reader.GetString()!, position);
            case JsonTokenType.True:
                return new HclBool(true, position);
            case JsonTokenType.False:
                return new HclBool(false, position);
            case JsonTokenType.Number:
                {
                    var text = Encoding.UTF8.GetString(reader.ValueSpan);

                    // Vault reads JSON numbers through hcl's tokens: an integer with ParseInt (64 bits), a number
                    // with a fraction or an exponent with ParseFloat; beyond those its decoding fails, and so do we.
                    if (!reader.ValueSpan.ContainsAny((byte)'.', (byte)'e', (byte)'E'))
                    {
                        return reader.TryGetInt64(out var integer)
                            ? new HclNumber(text, integer, integer, position)
                            : throw Error(utf8, position, $"integer {text} is out of range for a 64-bit number");
                    }

                    var value = reader.GetDouble();
                    return double.IsFinite(value)
                        ? new HclNumber(text, null, value, position)
                        : throw Error(utf8, position, $"number {text} is out of range");
                }

            default:
                return new HclNull(position);
        }
    }

    private static HclParseException FromJsonException(ReadOnlySpan<byte> utf8, string fileName, JsonException ex)
    {
        // The reader reports a 0-based line and a 0-based byte offset within it; we report 1-based UTF-16 columns.
        var line = (int)Math.Min(ex.LineNumber ?? 0, int.MaxValue);
        var lineStart = 0;
        for (var i = 0; i < line && lineStart < utf8.Length; i++)
        {
            var next = utf8[lineStart..].IndexOf((byte)'\n');
            lineStart = next < 0 ? utf8.Length : lineStart + next + 1;
        }

        var offset = (int)Math.Min(lineStart + (ex.BytePositionInLine ?? 0), utf8.Length);
        var position = new Utf8PositionTracker(fileName).Advance(utf8, offset);
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        return Error(utf8, position, $"invalid JSON: {message.TrimEnd(' ', '|', '.')}");
    }

    private static HclParseException Error(ReadOnlySpan<byte> utf8, SourcePosition position, string detail)
    {
        var lineStart = 0;
        for (var i = 1; i < position.Line && lineStart < utf8.Length; i++)
        {
            var next = utf8[lineStart..].IndexOf((byte)'\n');
            lineStart = next < 0 ? utf8.Length : lineStart + next + 1;
        }

        var lineEnd = utf8[lineStart..].IndexOf((byte)'\n');
        var line = utf8.Slice(lineStart, lineEnd < 0 ? utf8.Length - lineStart : lineEnd);
        return HclErrors.At(position, Encoding.UTF8.GetString(line), detail);
    }

    /// <summary>An object or array being filled in while its closing token has not been read yet.</summary>
    private sealed class Frame(bool isObject, SourcePosition position)
    {
        private readonly List<HclObjectItem>? _items = isObject ? [] : null;
        private readonly List<HclNode>? _elements = isObject ? null : [];

        public HclKey? PendingKey { get; set; }

        public void Add(HclNode value)
        {
            if (_items is not null)
            {
                var key = PendingKey!;
                _items.Add(new HclObjectItem([key], value, assigned: true, key.Position));
                PendingKey = null;
            }
            else
            {
                _elements!.Add(value);
            }
        }

        public HclNode Build() => _items is not null ? new HclObject(_items, position) : new HclList(_elements!, position);
    }
}
