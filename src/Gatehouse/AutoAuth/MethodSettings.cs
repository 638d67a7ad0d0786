using System.Globalization;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.AutoAuth;

/// <summary>
/// Typed reads of a method's or sink's <c>config</c> map, as lenient as Vault's mapstructure: numbers, bools and
/// strings may stand in for one another ("true", 1, "30s", 30). A value of the wrong shape throws
/// <see cref="AutoAuthConfigException"/> naming the key and its place, so startup fails with a clear message.
/// </summary>
internal sealed class MethodSettings(ConfigMap map, string owner)
{
    /// <summary>Who the keys belong to, for messages: <c>auto_auth.method "approle"</c>.</summary>
    public string Owner { get; } = owner;

    public ConfigMap Map { get; } = map;

    public string? GetString(string key)
    {
        var value = Map.GetString(key);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public string GetRequiredString(string key) =>
        GetString(key) ?? throw Error(key, $"{key} is required");

    public bool GetBool(string key, bool defaultValue)
    {
        if (!Map.Values.TryGetValue(key, out var node))
        {
            return defaultValue;
        }

        return node switch
        {
            HclBool b => b.Value,
            HclNumber { Integer: { } i } => i != 0,
            HclString s when bool.TryParse(s.Value, out var b) => b,
            HclString { Value: "1" } => true,
            HclString { Value: "0" } => false,
            HclString { Value: "" } => defaultValue,
            _ => throw Error(key, $"{key} must be a boolean (true or false)"),
        };
    }

    /// <summary>An integer; HCL's <c>0640</c> is octal already, and a string like <c>"0640"</c> is read as octal too.</summary>
    public long? GetInt64(string key)
    {
        if (!Map.Values.TryGetValue(key, out var node))
        {
            return null;
        }

        return node switch
        {
            HclNumber { Integer: { } i } => i,
            HclString { Value: "" } => null,
            HclString s when s.Value.Length > 1 && s.Value.StartsWith('0') && IsOctal(s.Value) => Convert.ToInt64(s.Value, 8),
            HclString s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => i,
            _ => throw Error(key, $"could not parse '{key}' as integer"),
        };
    }

    /// <summary>A duration: a Go duration string ("1m30s", "500ms") or a number of seconds.</summary>
    public TimeSpan? GetDuration(string key)
    {
        if (!Map.Values.TryGetValue(key, out var node))
        {
            return null;
        }

        return node switch
        {
            HclNumber n => TimeSpan.FromSeconds(n.Value),
            HclString { Value: "" } => null,
            HclString s when TryParseDuration(s.Value, out var d) => d,
            _ => throw Error(key, $"{key} must be a duration such as \"30s\" or \"1m\""),
        };
    }

    /// <summary>Parses a Go duration (<c>1h2m3.5s</c>, <c>500ms</c>) or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }

        var span = text.AsSpan();
        var total = 0.0;
        while (!span.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < span.Length && (char.IsAsciiDigit(span[numberLength]) || span[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 || !double.TryParse(span[..numberLength], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            span = span[numberLength..];
            var unitLength = 0;
            while (unitLength < span.Length && char.IsAsciiLetter(span[unitLength]) || unitLength < span.Length && span[unitLength] == 'µ')
            {
                unitLength++;
            }

            double? scale = span[..unitLength] switch
            {
                "h" => 3600,
                "m" => 60,
                "s" => 1,
                "ms" => 1e-3,
                "us" or "µs" => 1e-6,
                "ns" => 1e-9,
                _ => null,
            };
            if (scale is null)
            {
                return false;
            }

            total += number * scale.Value;
            span = span[unitLength..];
        }

        value = TimeSpan.FromSeconds(total);
        return true;
    }

    private static bool IsOctal(string text) => text.All(c => c is >= '0' and <= '7');

    private AutoAuthConfigException Error(string key, string message)
    {
        var position = Map.Values.TryGetValue(key, out var node) ? node.Position : Map.Position;
        var where = string.IsNullOrEmpty(position.File) ? "" : $"{position}: ";
        return new AutoAuthConfigException($"{where}{Owner}: {message}");
    }
}

/// <summary>A method or sink cannot be built from its configuration. The message says where and what to fix.</summary>
internal sealed class AutoAuthConfigException(string message) : Exception(message);
