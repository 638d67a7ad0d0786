using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.GoCompat;

namespace Gatehouse.DevVault;

/// <summary>DevVault's JSON adapters over <see cref="GoFormat"/>: request fields given as seconds or duration strings.</summary>
internal static class GoDuration
{
    /// <summary>Parses a duration given as JSON (number of seconds or a duration string). Null means zero.</summary>
    public static bool TryParseSeconds(JsonNode? node, out long seconds, out string error)
    {
        seconds = 0;
        error = "";
        if (node is null)
        {
            return true;
        }
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                seconds = (long)v.GetValue<double>();
                return true;
            }
            if (v.GetValueKind() == JsonValueKind.String)
            {
                return TryParseSeconds(v.GetValue<string>(), out seconds, out error);
            }
        }
        error = "could not parse duration";
        return false;
    }

    /// <summary>Seconds, or zero when the value is missing or does not parse.</summary>
    public static long SecondsOrZero(JsonNode? node) => TryParseSeconds(node, out var s, out _) ? s : 0;

    /// <summary>Vault's parseutil.ParseDurationSecond as its HTTP API reads it (days too), in whole seconds.</summary>
    public static bool TryParseSeconds(string? text, out long seconds, out string error)
    {
        seconds = 0;
        error = "";
        if (GoFormat.TryParseDurationSecond(text, out var value, days: true))
        {
            seconds = value.Ticks / TimeSpan.TicksPerSecond;
            return true;
        }

        error = $"strconv.ParseInt: parsing \"{text!.Trim()}\": invalid syntax";
        return false;
    }

    /// <summary>Formats seconds the way Vault prints them in warnings: "2h", "1h30m", "767h59m59s", "45s".</summary>
    public static string Format(long seconds) => GoFormat.FormatSecondsShort(seconds);
}
