using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// The "Files" table of Transcripts/README.md: how many exchanges each recording holds. The replay holds every
/// file to it, so a truncated or emptied copy fails instead of passing with nothing to compare.
/// </summary>
internal static partial class TranscriptReadme
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Transcripts");

    /// <summary>File name without ".jsonl" → the line count the README gives.</summary>
    public static Dictionary<string, int> LineCounts(string readmeText)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Row().Matches(readmeText))
        {
            counts[m.Groups["file"].Value] = int.Parse(m.Groups["lines"].Value, CultureInfo.InvariantCulture);
        }
        return counts;
    }

    public static Dictionary<string, int> LineCounts() => LineCounts(File.ReadAllText(Path.Combine(Directory, "README.md")));

    /// <summary>Null when <paramref name="exchanges"/> is what the README promises; otherwise why not.</summary>
    public static string? CheckCount(string file, int exchanges, IReadOnlyDictionary<string, int> readme)
    {
        if (!readme.TryGetValue(file, out var expected))
        {
            return $"{file}.jsonl is not in the README's Files table, so its line count cannot be checked; add its row";
        }
        if (exchanges == 0)
        {
            return $"{file}.jsonl has no exchanges (the README says {expected})";
        }
        if (exchanges < expected)
        {
            return $"{file}.jsonl has {exchanges} exchanges, fewer than the {expected} the README lists";
        }
        return null;
    }

    [GeneratedRegex(@"^\|\s*`(?<file>[^`]+)\.jsonl`\s*\|\s*(?<lines>\d+)\s*\|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
