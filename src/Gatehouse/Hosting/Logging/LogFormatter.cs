using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>-log-format: standard (hclog's text lines) or json (hclog's JSON lines).</summary>
internal enum LogFormat
{
    Standard,
    Json,
}

/// <summary>
/// Renders one log entry as one line, the way Vault's hclog does:
/// standard <c>2026-11-30T03:31:59.123Z [INFO]  Gatehouse.AutoAuth.AuthHandler: message: error="…"</c>;
/// json <c>{"@level":"info","@message":"…","@module":"…","@timestamp":"2026-11-30T03:31:59.123456Z",…}</c> with
/// each structured value as its own key. Timestamps are UTC.
/// </summary>
internal static class LogFormatter
{
    private const string OriginalFormatKey = "{OriginalFormat}";

    public static string Format(
        LogFormat format, DateTimeOffset timestamp, LogLevel level, string category, string message,
        IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception) =>
        format == LogFormat.Json
            ? FormatJson(timestamp, level, category, message, state, exception)
            : FormatStandard(timestamp, level, category, message, exception);

    public static string FormatStandard(DateTimeOffset timestamp, LogLevel level, string category, string message, Exception? exception)
    {
        var line = new StringBuilder(64 + message.Length);
        line.Append(timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        line.Append(VaultLogLevel.Label(level));
        if (category.Length > 0)
        {
            line.Append(category).Append(": ");
        }

        line.Append(message);
        if (exception is not null)
        {
            line.Append(": error=").Append(Quote($"{exception.GetType().Name}: {exception.Message}"));
        }

        // One entry, one line: a message with newlines would let input forge entries.
        return line.Replace("\r", "\\r").Replace("\n", "\\n").Append('\n').ToString();
    }

    public static string FormatJson(
        DateTimeOffset timestamp, LogLevel level, string category, string message,
        IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("@level", VaultLogLevel.Name(level));
            json.WriteString("@message", message);
            json.WriteString("@module", category);
            json.WriteString("@timestamp", timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));

            // hclog writes a map, which Go's encoder sorts by key; the @ keys sort first.
            var fields = new SortedDictionary<string, object?>(StringComparer.Ordinal);
            if (state is not null)
            {
                foreach (var (key, value) in state)
                {
                    if (key != OriginalFormatKey && !key.StartsWith('@'))
                    {
                        fields[key] = value;
                    }
                }
            }

            if (exception is not null)
            {
                fields["error"] = $"{exception.GetType().Name}: {exception.Message}";
            }

            foreach (var (key, value) in fields)
            {
                WriteValue(json, key, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
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
                    json.WriteString(key, d.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case TimeSpan t:
                json.WriteString(key, t.ToString("c", CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset dto:
                json.WriteString(key, dto.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>Quoted as hclog quotes a value that needs it.</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
