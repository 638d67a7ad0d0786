using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>Go-compatible duration parsing and formatting (Vault's parseutil.ParseDurationSecond).</summary>
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

    public static bool TryParseSeconds(string? text, out long seconds, out string error)
    {
        seconds = 0;
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        var s = text.Trim();
        if (s.EndsWith('d') && long.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var days))
        {
            seconds = days * 86400;
            return true;
        }
        if (TryParseGo(s, out var ticks))
        {
            seconds = ticks / TimeSpan.TicksPerSecond;
            return true;
        }
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            seconds = n;
            return true;
        }
        error = $"strconv.ParseInt: parsing \"{s}\": invalid syntax";
        return false;
    }

    /// <summary>Go's time.ParseDuration, returning ticks.</summary>
    public static bool TryParseGo(string s, out long ticks)
    {
        ticks = 0;
        var i = 0;
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            i++;
        }
        if (s.AsSpan(i).SequenceEqual("0"))
        {
            return true;
        }
        if (i >= s.Length)
        {
            return false;
        }
        decimal total = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (start == i || !decimal.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }
            var unit = s.AsSpan(unitStart, i - unitStart);
            decimal perUnit = unit switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1m,
            };
            if (perUnit < 0)
            {
                return false;
            }
            total += value * perUnit;
        }
        ticks = (long)(negative ? -total : total);
        return true;
    }

    /// <summary>Formats seconds the way Vault prints them in warnings: "2h", "1h30m", "767h59m59s", "45s".</summary>
    public static string Format(long seconds)
    {
        if (seconds == 0)
        {
            return "0s";
        }
        var sb = new StringBuilder();
        if (seconds < 0)
        {
            sb.Append('-');
            seconds = -seconds;
        }
        long h = seconds / 3600, m = seconds % 3600 / 60, sec = seconds % 60;
        if (h > 0)
        {
            sb.Append(h.ToString(CultureInfo.InvariantCulture)).Append('h');
        }
        if (m > 0 || (h > 0 && sec > 0))
        {
            sb.Append(m.ToString(CultureInfo.InvariantCulture)).Append('m');
        }
        if (sec > 0)
        {
            sb.Append(sec.ToString(CultureInfo.InvariantCulture)).Append('s');
        }
        return sb.ToString();
    }
}
