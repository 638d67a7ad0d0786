using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>
/// Writes a Gatehouse.Hcl tree in tests/hcl-peer's canonical JSON (see tests/hcl-peer/main.go), so the two parsers'
/// answers compare as strings:
/// <list type="bullet">
/// <item>HCL: every item, key and value with its position as <c>line:column</c>, the column counted in runes as
/// Go's scanner counts it (ours counts UTF-16 units; they differ after a character outside the BMP).</item>
/// <item>JSON: no positions (Go's JSON parser keeps none), and the tree flattened the way hashicorp/hcl's
/// json/parser/flatten.go does it (<c>{"a": {"b": {...}}}</c> becomes an item with keys a, b), since Go's parser
/// returns it flattened while ours keeps the literal shape for the binder.</item>
/// </list>
/// </summary>
internal static class CanonicalTree
{
    private static readonly JsonSerializerOptions Compact = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>The tree's items, for an input Go read as HCL; <paramref name="text"/> is the source, for columns.</summary>
    public static JsonArray Hcl(HclObject root, string text)
    {
        var lines = text.TrimStart('\uFEFF').Split('\n');
        return Items(root.Items.Select(i => (i.Keys, i.Value, i.Assigned)), lines, flatten: false);
    }

    /// <summary>The tree's items, for an input Go read as JSON: flattened, without positions.</summary>
    public static JsonArray Json(HclObject root) =>
        Items(root.Items.Select(i => (i.Keys, i.Value, i.Assigned)), lines: null, flatten: true);

    /// <summary>A JSON node as a string with object members sorted by name, for comparison and messages.</summary>
    public static string Canonical(JsonNode? node)
    {
        return Sorted(node)?.ToJsonString(Compact) ?? "null";

        static JsonNode? Sorted(JsonNode? node) => node switch
        {
            JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
            JsonArray a => new JsonArray([.. a.Select(Sorted)]),
            null => null,
            _ => node.DeepClone(),
        };
    }

    /// <summary>Go's <c>strconv.FormatFloat(v, 'e', -1, 64)</c>: the shortest round-trip digits as d.ddde±XX.</summary>
    public static string GoExponent(double value)
    {
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        if (negative)
        {
            r = r[1..];
        }

        var e = r.IndexOf('E', StringComparison.Ordinal);
        var exponent = e < 0 ? 0 : int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? r : r[..e];
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = mantissa.Replace(".", string.Empty, StringComparison.Ordinal);
        var pointAt = point < 0 ? mantissa.Length : point;
        var zeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        var sign = negative ? "-" : string.Empty;
        if (digits.Length == 0)
        {
            return sign + "0e+00";
        }

        var decimalExponent = pointAt - zeros - 1 + exponent;
        var fraction = digits.Length > 1 ? "." + digits[1..] : string.Empty;
        var exponentSign = decimalExponent < 0 ? "-" : "+";
        return $"{sign}{digits[0]}{fraction}e{exponentSign}{Math.Abs(decimalExponent):00}";
    }

    private static JsonArray Items(IEnumerable<(IReadOnlyList<HclKey> Keys, HclNode Value, bool Assigned)> items, string[]? lines, bool flatten)
    {
        var list = items.ToList();
        if (flatten)
        {
            list = Flatten(list);
        }

        var array = new JsonArray();
        foreach (var (keys, value, assigned) in list)
        {
            var keyArray = new JsonArray();
            foreach (var key in keys)
            {
                var k = new JsonObject { ["name"] = key.Name, ["quoted"] = key.Quoted };
                AddPosition(k, key.Position, lines);
                keyArray.Add(k);
            }

            var item = new JsonObject { ["keys"] = keyArray, ["assign"] = assigned, ["value"] = Value(value, lines, flatten) };
            AddPosition(item, keys[0].Position, lines);
            array.Add(item);
        }

        return array;
    }

    private static JsonObject Value(HclNode node, string[]? lines, bool flatten)
    {
        var value = node switch
        {
            HclObject o => new JsonObject { ["object"] = Items(o.Items.Select(i => (i.Keys, i.Value, i.Assigned)), lines, flatten) },
            HclList l => new JsonObject { ["list"] = new JsonArray([.. l.Items.Select(e => (JsonNode)Value(e, lines, flatten))]) },
            HclString s => new JsonObject { ["string"] = s.Value },
            HclNumber { Integer: { } i } => new JsonObject { ["int"] = i.ToString(CultureInfo.InvariantCulture) },
            HclNumber n => new JsonObject { ["float"] = GoExponent(n.Value) },
            HclBool b => new JsonObject { ["bool"] = b.Value },
            HclNull => new JsonObject { ["null"] = true },
            _ => throw new InvalidOperationException(node.GetType().Name),
        };
        AddPosition(value, node.Position, lines);
        return value;
    }

    private static void AddPosition(JsonObject target, SourcePosition position, string[]? lines)
    {
        if (lines is null)
        {
            return;
        }

        // Go counts runes; we count UTF-16 units: the same column unless a surrogate pair comes before it.
        var column = position.Column;
        if (position.Line >= 1 && position.Line <= lines.Length)
        {
            var line = lines[position.Line - 1];
            var before = line.AsSpan(0, Math.Min(line.Length, position.Column - 1));
            var pairs = 0;
            for (var i = 0; i < before.Length; i++)
            {
                if (char.IsHighSurrogate(before[i]))
                {
                    pairs++;
                }
            }

            column -= pairs;
        }

        target["pos"] = $"{position.Line}:{column}";
    }

    /// <summary>hashicorp/hcl json/parser/flatten.go, one object list at a time (its walk recurses into the values).</summary>
    private static List<(IReadOnlyList<HclKey> Keys, HclNode Value, bool Assigned)> Flatten(List<(IReadOnlyList<HclKey> Keys, HclNode Value, bool Assigned)> list)
    {
        var items = new List<(IReadOnlyList<HclKey> Keys, HclNode Value, bool Assigned)>();
        var frontier = new List<(IReadOnlyList<HclKey> Keys, HclNode Value, bool Assigned)>(list);
        while (frontier.Count > 0)
        {
            var item = frontier[^1];
            frontier.RemoveAt(frontier.Count - 1);
            switch (item.Value)
            {
                case HclObject o when o.Items.Count > 0 && o.Items.All(sub => sub.Value is HclObject):
                    foreach (var sub in o.Items)
                    {
                        frontier.Add(([.. item.Keys, .. sub.Keys], sub.Value, item.Assigned));
                    }

                    break;
                case HclList l when l.Items.Count > 0 && l.Items.All(e => e is HclObject):
                    foreach (var element in l.Items)
                    {
                        frontier.Add((item.Keys, element, item.Assigned));
                    }

                    break;
                default:
                    items.Add(item);
                    break;
            }
        }

        items.Reverse();
        return items;
    }

    /// <summary>Shows an input in a failure message: printable, with escapes for what is not.</summary>
    public static string Show(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\n' => "\\n\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\\' => "\\\\",
                _ when char.IsControl(c) || c is '\uFEFF' or '\uE123' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }
}
