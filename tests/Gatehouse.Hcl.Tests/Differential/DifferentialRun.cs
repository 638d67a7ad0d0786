using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>How Go's answer and ours differ for one input.</summary>
internal enum DifferenceKind
{
    /// <summary>Go accepts the input, Gatehouse.Hcl rejects it.</summary>
    GoAcceptsWeReject,

    /// <summary>Gatehouse.Hcl accepts the input, Go rejects it.</summary>
    WeAcceptGoRejects,

    /// <summary>Both accept, with different trees (keys, values, positions).</summary>
    Tree,

    /// <summary>Both reject, on different lines.</summary>
    ErrorLine,
}

/// <summary>One input on which the parsers disagree, with everything a <see cref="KnownDifference"/> may look at.</summary>
internal sealed record Difference(
    string Name,
    byte[] Bytes,
    DifferenceKind Kind,
    JsonObject Go,
    JsonArray? OurTree,
    HclParseException? OurError)
{
    public string Mode => (string)Go["mode"]!;

    public bool GoOk => (bool)Go["ok"]!;

    public string GoError => (string?)Go["error"] ?? string.Empty;

    /// <summary>"parse" (hcl.Parse refused it) or "value" (a literal that token.Value(), so Vault's decoding, refuses).</summary>
    public string GoStage => (string?)Go["stage"] ?? string.Empty;

    /// <summary>For JSON-mode inputs, encoding/json's verdict: is this JSON at all?</summary>
    public bool? GoJsonValid => (bool?)Go["json_valid"];

    /// <summary>Our error without its position ("" when we accept).</summary>
    public string OurDetail => OurError?.Detail ?? string.Empty;

    public int OurLine => OurError?.Position.Line ?? 0;

    /// <summary>The line Go's error points at: the first scanner error when Go reports a later one; 0 when none.</summary>
    public int GoLine => (int?)Go["first"]?["line"] ?? (int?)Go["line"] ?? 0;

    public string GoTree => CanonicalTree.Canonical(Go["tree"]);

    public string OurTreeText => CanonicalTree.Canonical(OurTree);

    /// <summary>The input as text (invalid UTF-8 shows as U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Bytes);

    public string Describe()
    {
        var ours = OurError is null ? $"accepts: {OurTreeText}" : $"rejects: {OurError.Message}";
        var go = GoOk ? $"accepts: {GoTree}" : $"rejects ({Go["stage"]}, line {GoLine}): {GoError}";
        return $"{Name} [{Kind}, {Mode}]\n  input:  {CanonicalTree.Show(Bytes)}\n  base64: {Convert.ToBase64String(Bytes)}\n  Go {go}\n  Gatehouse.Hcl {ours}";
    }
}

/// <summary>What a differential run found: every input compared, and the differences not explained.</summary>
internal sealed record DifferentialReport(
    int Compared,
    int Agreed,
    int BothAccepted,
    IReadOnlyDictionary<string, int> Explained,
    IReadOnlyList<Difference> Unexplained,
    TimeSpan GoTime,
    TimeSpan OurTime)
{
    public string Summary()
    {
        var sb = new StringBuilder($"{Compared} inputs compared with Go's hcl (Go {GoTime.TotalSeconds:0.0} s, ours and the comparison {OurTime.TotalSeconds:0.0} s): {Agreed} agree ({BothAccepted} accepted by both, with the same tree)");
        foreach (var (name, count) in Explained.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            sb.Append($", {count} {name}");
        }

        return sb.Append($", {Unexplained.Count} unexplained").ToString();
    }
}

/// <summary>Runs inputs through Go's hcl (tests/hcl-peer) and through <see cref="HclFile.Parse"/>, and compares.</summary>
internal static class DifferentialRun
{
    public static DifferentialReport Compare(IReadOnlyList<(string Name, byte[] Bytes)> inputs)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var go = HclPeer.Run(inputs);
        var goTime = clock.Elapsed;
        var explained = new Dictionary<string, int>(StringComparer.Ordinal);
        var unexplained = new List<Difference>();
        var agreed = 0;
        var bothAccepted = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var difference = CompareOne(inputs[i].Name, inputs[i].Bytes, go[i]);
            if (difference is null)
            {
                agreed++;
                bothAccepted += (bool)go[i]["ok"]! ? 1 : 0;
                continue;
            }

            var known = KnownDifferences.All.FirstOrDefault(k => k.Kinds.Contains(difference.Kind) && k.Explains(difference));
            if (known is null)
            {
                unexplained.Add(difference);
            }
            else
            {
                explained[known.Name] = explained.GetValueOrDefault(known.Name) + 1;
            }
        }

        return new DifferentialReport(inputs.Count, agreed, bothAccepted, explained, unexplained, goTime, clock.Elapsed - goTime);
    }

    private static Difference? CompareOne(string name, byte[] bytes, JsonObject go)
    {
        JsonArray? ourTree = null;
        HclParseException? ourError = null;
        var json = (string)go["mode"]! == "json";
        try
        {
            var tree = HclFile.Parse(bytes, name);
            ourTree = json ? CanonicalTree.Json(tree) : CanonicalTree.Hcl(tree, Encoding.UTF8.GetString(bytes));
        }
        catch (HclParseException ex)
        {
            ourError = ex;
        }

        var goOk = (bool)go["ok"]!;
        DifferenceKind? kind = (goOk, ourError is null) switch
        {
            (true, false) => DifferenceKind.GoAcceptsWeReject,
            (false, true) => DifferenceKind.WeAcceptGoRejects,
            (true, true) when !JsonNode.DeepEquals(go["tree"], ourTree) => DifferenceKind.Tree,
            _ => null,
        };

        var difference = new Difference(name, bytes, kind ?? DifferenceKind.ErrorLine, go, ourTree, ourError);
        if (kind is null && !goOk && difference.GoLine > 0 && difference.GoLine != ourError!.Position.Line)
        {
            return difference;
        }

        return kind is null ? null : difference;
    }
}

/// <summary>
/// A difference between Go's hcl and Gatehouse.Hcl that is deliberate (see docs/hcl.md, "Differences from
/// HashiCorp's parser"): its name, why, which kinds of difference it covers, and a test that recognises it.
/// </summary>
internal sealed record KnownDifference(string Name, string Reason, DifferenceKind[] Kinds, Func<Difference, bool> Explains);
