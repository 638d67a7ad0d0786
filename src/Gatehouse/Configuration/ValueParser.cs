using Gatehouse.GoCompat;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// Converts HCL values to the types Vault gives its keys, with Vault's leniency: booleans also as Go-bool strings,
/// durations as Go duration strings or whole seconds, file modes as octal literals or octal strings. Each method
/// returns false with a message core ("expected a boolean, got a list") on a value it cannot read.
/// </summary>
internal static class ValueParser
{
    public static string Describe(HclNode node) => node switch
    {
        HclString => "a string",
        HclNumber => "a number",
        HclBool => "a boolean",
        HclList => "a list",
        HclObject => "a block",
        HclNull => "null",
        _ => "an unknown value",
    };

    /// <summary>Strings, and numbers and booleans as written (HCL1 decodes those into string fields too).</summary>
    public static bool TryString(HclNode node, out string value, out string error)
    {
        (value, error) = node switch
        {
            HclString s => (s.Value, ""),
            HclNumber n => (n.Text, ""),
            HclBool b => (b.Value ? "true" : "false", ""),
            _ => ("", $"expected a string, got {Describe(node)}"),
        };
        return error.Length == 0;
    }

    public static bool TryBool(HclNode node, out bool value, out string error)
    {
        value = false;
        error = "";
        switch (node)
        {
            case HclBool b:
                value = b.Value;
                return true;
            case HclString s when GoFormat.TryParseBool(s.Value, out value):
                return true;
            case HclString s:
                error = $"expected a boolean, got \"{s.Value}\"; use true or false";
                return false;
            default:
                error = $"expected a boolean, got {Describe(node)}";
                return false;
        }
    }

    /// <summary>Integers as numbers, or as strings in Go's base-0 syntax (decimal, 0x hex, 0 octal).</summary>
    public static bool TryInt64(HclNode node, out long value, out string error)
    {
        value = 0;
        error = "";
        switch (node)
        {
            case HclNumber { Integer: { } i }:
                value = i;
                return true;
            case HclNumber n:
                error = $"expected a whole number, got {n.Text}";
                return false;
            case HclString s when GoFormat.TryParseInt(s.Value.Trim(), out value):
                return true;
            case HclString s:
                error = $"expected a whole number, got \"{s.Value}\"";
                return false;
            default:
                error = $"expected a whole number, got {Describe(node)}";
                return false;
        }
    }

    public static bool TryInt32(HclNode node, out int value, out string error)
    {
        value = 0;
        if (!TryInt64(node, out var wide, out error))
            return false;
        if (wide is < int.MinValue or > int.MaxValue)
        {
            error = $"the number {wide} is out of range";
            return false;
        }

        value = (int)wide;
        return true;
    }

    /// <summary>
    /// A file mode: an HCL number (0640 is already octal, 416) or a string read as octal ("0640", "640").
    /// Only permission bits (and setuid/setgid/sticky) are allowed, as for a regular file.
    /// </summary>
    public static bool TryFileMode(HclNode node, out int value, out string error)
    {
        value = 0;
        error = "";
        long mode;
        switch (node)
        {
            case HclNumber { Integer: { } i }:
                mode = i;
                break;
            case HclString s when GoFormat.TryParseOctal(s.Value.Trim(), out var parsed):
                mode = parsed;
                break;
            case HclString s:
                error = $"expected an octal file mode such as 0640, got \"{s.Value}\"";
                return false;
            default:
                error = $"expected an octal file mode such as 0640, got {Describe(node)}";
                return false;
        }

        if (mode is < 0 or > 0xFFF)
        {
            error = "file mode does not represent a regular file";
            return false;
        }

        value = (int)mode;
        return true;
    }

    /// <summary>Vault's parseutil.ParseDurationSecond (<see cref="GoFormat.TryParseDurationSecond"/>): a Go duration ("1h30m") or whole seconds (30 or "30").</summary>
    public static bool TryDuration(HclNode node, out TimeSpan value, out string error)
    {
        value = default;
        error = "";
        switch (node)
        {
            case HclNumber { Integer: { } i } when Math.Abs(i) <= TimeSpan.MaxValue.TotalSeconds:
                value = TimeSpan.FromSeconds(i);
                return true;
            case HclNumber n:
                error = $"expected a duration such as \"30s\" or a whole number of seconds, got {n.Text}";
                return false;
            case HclString s when GoFormat.TryParseDurationSecond(s.Value, out value):
                return true;
            case HclString s:
                error = $"expected a duration such as \"30s\", \"5m\" or \"1h30m\", got \"{s.Value}\"";
                return false;
            default:
                error = $"expected a duration such as \"30s\", got {Describe(node)}";
                return false;
        }
    }

    /// <summary>
    /// Vault's log level names, case-insensitive and trimmed: trace, debug, info (notice), warn (warning), error (err).
    /// <paramref name="level"/> is the canonical name: trace, debug, info, warn or error. Empty is not a level (callers
    /// treat an empty setting as "not set").
    /// </summary>
    public static bool TryParseLogLevel(string? text, out string level)
    {
        level = (text ?? "").Trim().ToLowerInvariant() switch
        {
            "trace" => "trace",
            "debug" => "debug",
            "info" or "notice" => "info",
            "warn" or "warning" => "warn",
            "err" or "error" => "error",
            _ => "",
        };
        return level.Length > 0;
    }

    /// <summary>Vault's log formats, case-insensitive and trimmed: standard or json (its ParseLogFormat).</summary>
    public static bool TryParseLogFormat(string? text, out string format)
    {
        format = (text ?? "").Trim().ToLowerInvariant() switch
        {
            "standard" => "standard",
            "json" => "json",
            _ => "",
        };
        return format.Length > 0;
    }
}
