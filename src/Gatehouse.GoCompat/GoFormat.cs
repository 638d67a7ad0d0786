using System.Globalization;
using System.Text;

namespace Gatehouse.GoCompat;

/// <summary>
/// The Go and Vault spellings Gatehouse reads and writes, each rule once: <c>strconv.ParseBool</c>,
/// <c>strconv.ParseInt(s, 0, 64)</c>, <c>time.ParseDuration</c>, Vault's <c>parseutil.ParseDurationSecond</c> and
/// <c>time.Duration.String</c>. Named variants exist only where Vault's own formats differ.
/// </summary>
internal static class GoFormat
{
    /// <summary>Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.</summary>
    public static bool TryParseBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>Go's strconv.ParseInt(s, 0, 64): decimal, 0x/0X hex, 0o or leading-0 octal, 0b binary.</summary>
    public static bool TryParseInt(string text, out long value)
    {
        value = 0;
        var span = text.AsSpan();
        var negative = false;
        if (span.Length > 0 && span[0] is '-' or '+')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        bool ok;
        if (span.Length > 2 && span[0] == '0' && span[1] is 'x' or 'X')
            ok = long.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        else if (span.Length > 2 && span[0] == '0' && span[1] is 'o' or 'O')
            ok = TryParseOctal(span[2..].ToString(), out value);
        else if (span.Length > 2 && span[0] == '0' && span[1] is 'b' or 'B')
            ok = long.TryParse(span[2..], NumberStyles.AllowBinarySpecifier, CultureInfo.InvariantCulture, out value);
        else if (span.Length > 1 && span[0] == '0')
            ok = TryParseOctal(span[1..].ToString(), out value);
        else
            ok = long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (negative)
            value = -value;
        return ok;
    }

    /// <summary>Octal digits only, no prefix or sign (a file mode's "0640" or "640").</summary>
    public static bool TryParseOctal(string text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 21)
            return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '7')
                return false;
            value = (value * 8) + (c - '0');
        }

        return true;
    }

    /// <summary>
    /// Go's time.ParseDuration: a signed sequence of decimal numbers with units ns, us, µs, ms, s, m, h. A bare
    /// number other than "0" is refused, as Go refuses it; so is a value beyond <see cref="TimeSpan.MaxValue"/>.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var span = text.AsSpan();
        var negative = false;
        if (span.Length > 0 && span[0] is '-' or '+')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.SequenceEqual("0"))
            return true;
        if (span.IsEmpty)
            return false;

        decimal totalTicks = 0;
        while (!span.IsEmpty)
        {
            var n = 0;
            while (n < span.Length && (char.IsAsciiDigit(span[n]) || span[n] == '.'))
                n++;
            if (n == 0 || !decimal.TryParse(span[..n], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            span = span[n..];
            var u = 0;
            while (u < span.Length && !char.IsAsciiDigit(span[u]) && span[u] != '.')
                u++;
            decimal ticksPerUnit = span[..u] switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1m,
            };
            if (ticksPerUnit < 0)
                return false;
            span = span[u..];
            totalTicks += number * ticksPerUnit;
            if (totalTicks > TimeSpan.MaxValue.Ticks)
                return false;
        }

        value = TimeSpan.FromTicks((long)(negative ? -totalTicks : totalTicks));
        return true;
    }

    /// <summary>
    /// Vault's parseutil.ParseDurationSecond, which differs from Go's time.ParseDuration: the text is trimmed, empty
    /// means zero, and a bare integer is whole seconds ("30"). With <paramref name="days"/> a whole number of days
    /// ("7d") is read too, as Vault's HTTP API reads it; Gatehouse's configuration reader does not (yet) accept
    /// days, so it passes false.
    /// </summary>
    public static bool TryParseDurationSecond(string? text, out TimeSpan value, bool days = false)
    {
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            value = TimeSpan.Zero;
            return true;
        }

        if (days && s.EndsWith('d') && long.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
        {
            value = TimeSpan.FromDays(d);
            return true;
        }

        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }

        return TryParseDuration(s, out value);
    }

    /// <summary>Go's time.Duration.String(): "0s", "1.5s", "300ms", "5m0s", "1h30m0s".</summary>
    public static string FormatDuration(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
            return "0s";
        var sb = new StringBuilder();
        if (value < TimeSpan.Zero)
        {
            sb.Append('-');
            value = value.Negate();
        }

        if (value < TimeSpan.FromSeconds(1))
            return sb.Append(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds}ms").ToString();
        var hours = (long)value.TotalHours;
        if (hours > 0)
            sb.Append(CultureInfo.InvariantCulture, $"{hours}h");
        if (hours > 0 || value.Minutes > 0)
            sb.Append(CultureInfo.InvariantCulture, $"{value.Minutes}m");
        var seconds = value.Seconds + (value.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond);
        return sb.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('s').ToString();
    }

    /// <summary>
    /// Vault's short form in its TTL warnings, which differs from Go's String(): zero units are left out ("2h",
    /// "1h30m", "45s", but "1h0m5s"), whole seconds only.
    /// </summary>
    public static string FormatSecondsShort(long seconds)
    {
        if (seconds == 0)
            return "0s";
        var sb = new StringBuilder();
        if (seconds < 0)
        {
            sb.Append('-');
            seconds = -seconds;
        }

        long h = seconds / 3600, m = seconds % 3600 / 60, sec = seconds % 60;
        if (h > 0)
            sb.Append(h.ToString(CultureInfo.InvariantCulture)).Append('h');
        if (m > 0 || (h > 0 && sec > 0))
            sb.Append(m.ToString(CultureInfo.InvariantCulture)).Append('m');
        if (sec > 0)
            sb.Append(sec.ToString(CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }
}
