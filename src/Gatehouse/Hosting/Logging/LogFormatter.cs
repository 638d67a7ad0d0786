using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.GoCompat;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>-log-format: standard (hclog's text lines) or json (hclog's JSON lines).</summary>
internal enum LogFormat
{
    Standard,
    Json,
}

/// <summary>
/// Renders one log entry as one line, the way Vault's hclog does (go-hclog intlogger.go, logPlain and logJSON):
/// standard <c>2026-12-07T07:00:00.000Z [INFO]  proxy.auth.handler: authentication successful: method=approle ttl=1h0m0s</c>;
/// json <c>{"@level":"info","@message":"authentication successful","@module":"proxy.auth.handler","@timestamp":"2026-12-07T07:00:00.000000Z","method":"approle","ttl":"1h0m0s"}</c>.
/// <para>
/// A message template ending in <c>": key={Value} key2={Value2}"</c> is hclog's message and key/value pairs: the pairs
/// become <c>key=value</c> fields in standard lines and their own keys in JSON, and the message is the part before.
/// Every value is written as Go writes it: durations as <c>1h0m0s</c>, booleans as <c>true</c>, null as <c>&lt;nil&gt;</c>;
/// a field value with a space, a quote or anything outside <c>-</c>…<c>~</c> is quoted as hclog quotes it.
/// Placeholders inside the message are rendered the same way and, in JSON, also kept as snake_case keys.
/// Timestamps are UTC. A newline anywhere is escaped: one entry is always one line.
/// </para>
/// </summary>
internal static partial class LogFormatter
{
    private const string OriginalFormatKey = "{OriginalFormat}";

    /// <summary>Parsed templates: they are the constants of [LoggerMessage] and the libraries', a bounded set.</summary>
    private static readonly ConcurrentDictionary<string, LogTemplate> Templates = new(StringComparer.Ordinal);

    private const int MaxCachedTemplates = 2048;

    public static string Format(
        LogFormat format, DateTimeOffset timestamp, LogLevel level, string module, string message,
        IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception)
    {
        var entry = Entry.From(message, state, exception);
        return format == LogFormat.Json
            ? FormatJson(timestamp, level, module, entry)
            : FormatStandard(timestamp, level, module, entry);
    }

    /// <summary>A line with no template: a message and, optionally, fields (in order).</summary>
    public static string Format(
        LogFormat format, DateTimeOffset timestamp, LogLevel level, string module, string message,
        IReadOnlyList<(string Key, object? Value)>? fields = null)
    {
        var entry = new Entry(message, fields ?? [], []);
        return format == LogFormat.Json
            ? FormatJson(timestamp, level, module, entry)
            : FormatStandard(timestamp, level, module, entry);
    }

    private static string FormatStandard(DateTimeOffset timestamp, LogLevel level, string module, Entry entry)
    {
        var line = new StringBuilder(96 + entry.Message.Length);
        line.Append(timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        line.Append(VaultLogLevel.Label(level));
        if (module.Length > 0)
        {
            line.Append(module);
            if (entry.Message.Length > 0)
            {
                line.Append(": ").Append(entry.Message);
            }
        }
        else
        {
            line.Append(entry.Message);
        }

        if (entry.Fields.Count > 0)
        {
            line.Append(':');
            foreach (var (key, value) in entry.Fields)
            {
                line.Append(' ').Append(key).Append('=').Append(FieldText(value));
            }
        }

        // One entry, one line: a message with newlines would let input forge entries.
        return line.Replace("\r", "\\r").Replace("\n", "\\n").Append('\n').ToString();
    }

    private static string FormatJson(DateTimeOffset timestamp, LogLevel level, string module, Entry entry)
    {
        // hclog writes a map, which Go's encoder sorts by key; the @ keys sort first. A field named like a later
        // one is overwritten, as in a Go map: the pairs win over the message's placeholders.
        var fields = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["@level"] = VaultLogLevel.Name(level),
            ["@message"] = entry.Message,
            ["@timestamp"] = timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        };
        if (module.Length > 0)
        {
            fields["@module"] = module;
        }

        foreach (var (key, value) in entry.Inline)
        {
            fields.TryAdd(key, value);
        }

        foreach (var (key, value) in entry.Fields)
        {
            fields[key] = value;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            foreach (var (key, value) in fields)
            {
                WriteJsonValue(json, key, value);
            }

            json.WriteEndObject();
        }

        // Go's encoder escapes <, > and & (SetEscapeHTML, on in hclog); in JSON text they occur only inside strings.
        return Encoding.UTF8.GetString(buffer.ToArray())
            .Replace("<", "\\u003c", StringComparison.Ordinal)
            .Replace(">", "\\u003e", StringComparison.Ordinal)
            .Replace("&", "\\u0026", StringComparison.Ordinal) + "\n";
    }

    private static void WriteJsonValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                double d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsFinite(d))
                {
                    json.WriteNumber(key, d);
                }
                else
                {
                    json.WriteString(key, GoText(d));
                }

                break;
            default:
                json.WriteString(key, GoText(value));
                break;
        }
    }

    /// <summary>A value as Go's <c>%v</c> writes it: <c>1h0m0s</c>, <c>true</c>, <c>&lt;nil&gt;</c>.</summary>
    public static string GoText(object? value) => value switch
    {
        null => "<nil>",
        string s => s,
        bool b => b ? "true" : "false",
        TimeSpan t => GoFormat.FormatDuration(t),
        DateTimeOffset dto => dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        double d when double.IsPositiveInfinity(d) => "+Inf",
        double d when double.IsNegativeInfinity(d) => "-Inf",
        double d when double.IsNaN(d) => "NaN",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>
    /// A field's text as hclog writes it: as is when every character is in <c>-</c>…<c>~</c> (0x2D–0x7E), else in
    /// double quotes with <c>"</c> and control characters escaped; the empty string is <c>""</c>.
    /// </summary>
    private static string FieldText(object? value)
    {
        string text = GoText(value);
        if (text.Length == 0)
        {
            return "\"\"";
        }

        bool plain = true;
        foreach (char c in text)
        {
            if (c < '-' || c > '~')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return text;
        }

        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                    {
                        quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    }
                    else
                    {
                        quoted.Append(c);
                    }

                    break;
            }
        }

        return quoted.Append('"').ToString();
    }

    /// <summary><c>SinkCount</c> → <c>sink_count</c>: a placeholder's name as an hclog key.</summary>
    internal static string SnakeCase(string name)
    {
        var key = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                {
                    key.Append('_');
                }

                key.Append(char.ToLowerInvariant(c));
            }
            else
            {
                key.Append(c);
            }
        }

        return key.ToString();
    }

    /// <summary>One entry, rendered: the message, hclog's key/value fields, and (JSON only) the message's placeholders.</summary>
    private sealed record Entry(
        string Message, IReadOnlyList<(string Key, object? Value)> Fields, IReadOnlyList<(string Key, object? Value)> Inline)
    {
        public static Entry From(string message, IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception)
        {
            var fields = new List<(string, object?)>();
            var inline = new List<(string, object?)>();
            if (state is not null && Find(state, OriginalFormatKey) is string original)
            {
                var template = Parse(original);
                var text = new StringBuilder(original.Length + 32);
                foreach (var segment in template.Message)
                {
                    if (segment.IsPlaceholder)
                    {
                        var value = Find(state, segment.Text);
                        text.Append(GoText(value));
                        inline.Add((SnakeCase(segment.Text), value));
                    }
                    else
                    {
                        text.Append(segment.Text);
                    }
                }

                message = text.ToString();
                foreach (var (key, placeholder) in template.Pairs)
                {
                    fields.Add((key, Find(state, placeholder)));
                }
            }

            if (exception is not null)
            {
                fields.Add(("error", $"{exception.GetType().Name}: {exception.Message}"));
            }

            return new Entry(message, fields, inline);
        }

        private static object? Find(IReadOnlyList<KeyValuePair<string, object?>> state, string key)
        {
            for (int i = 0; i < state.Count; i++)
            {
                if (string.Equals(state[i].Key, key, StringComparison.Ordinal))
                {
                    return state[i].Value;
                }
            }

            return null;
        }
    }

    private static LogTemplate Parse(string template)
    {
        if (Templates.TryGetValue(template, out var parsed))
        {
            return parsed;
        }

        parsed = LogTemplate.Parse(template);
        if (Templates.Count < MaxCachedTemplates)
        {
            Templates.TryAdd(template, parsed);
        }

        return parsed;
    }

    private readonly record struct Segment(string Text, bool IsPlaceholder);

    /// <summary>A message template split into its message (literal text and placeholders) and trailing key={Value} pairs.</summary>
    private sealed partial record LogTemplate(IReadOnlyList<Segment> Message, IReadOnlyList<(string Key, string Placeholder)> Pairs)
    {
        public static LogTemplate Parse(string template)
        {
            string messagePart = template;
            var pairs = new List<(string, string)>();
            var match = TrailingPairs().Match(template);
            if (match.Success)
            {
                messagePart = match.Groups["message"].Value;
                foreach (Capture pair in match.Groups["pair"].Captures)
                {
                    int eq = pair.Value.IndexOf('=', StringComparison.Ordinal);
                    pairs.Add((pair.Value[..eq], pair.Value[(eq + 2)..^1]));
                }
            }

            return new LogTemplate(Segments(messagePart), pairs);
        }

        private static List<Segment> Segments(string text)
        {
            var segments = new List<Segment>();
            var literal = new StringBuilder();
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '{' && i + 1 < text.Length && text[i + 1] == '{')
                {
                    literal.Append('{');
                    i++;
                }
                else if (c == '}' && i + 1 < text.Length && text[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                }
                else if (c == '{' && text.IndexOf('}', i) is var end and > 0)
                {
                    if (literal.Length > 0)
                    {
                        segments.Add(new Segment(literal.ToString(), false));
                        literal.Clear();
                    }

                    // A format or alignment ({X:F1}, {X,5}) is not used by Gatehouse; the name is what counts.
                    string name = text[(i + 1)..end];
                    int cut = name.IndexOfAny([':', ',']);
                    segments.Add(new Segment(cut >= 0 ? name[..cut] : name, true));
                    i = end;
                }
                else
                {
                    literal.Append(c);
                }
            }

            if (literal.Length > 0)
            {
                segments.Add(new Segment(literal.ToString(), false));
            }

            return segments;
        }

        [GeneratedRegex(@"^(?<message>.*?): (?<pair>[a-z][a-z0-9_.]*=\{[A-Za-z_][A-Za-z0-9_]*\})(?: (?<pair>[a-z][a-z0-9_.]*=\{[A-Za-z_][A-Za-z0-9_]*\}))*$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
        private static partial Regex TrailingPairs();
    }
}
