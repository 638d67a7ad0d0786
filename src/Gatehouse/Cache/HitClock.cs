using System.Globalization;

namespace Gatehouse.Cache;

/// <summary>
/// The current second as hits see it: its <c>Date</c> header, made once per second and shared by every hit answer
/// built in that second (the name, the value and its array).
/// </summary>
internal sealed class HitClock
{
    public HitClock(long second, string date)
    {
        Second = second;
        DateHeader = new("Date", [date]);
    }

    /// <summary>Unix seconds.</summary>
    public long Second { get; }

    public KeyValuePair<string, string[]> DateHeader { get; }

    public static HitClock At(DateTimeOffset now) => new(now.ToUnixTimeSeconds(), now.ToString("r", CultureInfo.InvariantCulture));
}
