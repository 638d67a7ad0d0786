using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// Compares a recorded Vault response body with DevVault's by shape (keys, JSON kinds, exact values where they are
/// not volatile), and learns which DevVault value stands for each recorded volatile value (tokens, accessors, lease
/// ids, ...). An identity (a token, accessor, lease id) learned once must come back as the same value wherever the
/// recording repeats it, and two recorded identities may not become one. Request ids, entity ids and JWTs count
/// as identities too: an unwrapped response must carry the request id of the request it wraps.
/// </summary>
internal sealed partial class ShapeComparer
{
    private readonly Dictionary<string, string> _learnedFrom = new(StringComparer.Ordinal);

    /// <summary>Recorded value → the value DevVault gave in its place. Requests are rewritten through it.</summary>
    public Dictionary<string, string> Map { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Harness hints for recorded token lease keys that a later exchange uses by id. Vault names a token's lease
    /// with a salted hash, so a recorded key cannot be linked to its token from the files alone; these links come
    /// from the recorded lookup (06-leases "lookup a token lease by id": issued 02:03:51.1218 with ttl 1h, which is
    /// parent token P3 of 02-token). DevVault's key ends with a hash of the token id, so the harness finds the
    /// matching key in DevVault's LIST.
    /// </summary>
    private static readonly Dictionary<string, string> s_tokenLeaseHints = new(StringComparer.Ordinal)
    {
        ["h156c505378b9d6f6606c7312d7bc6e55e8b188657244cef701b1669d501c0184"] = "s.mxcu1APHNJ7lHX4HBpKQcpqf",
    };

    /// <summary>Categories whose values name one thing each: seeing one again must mean the same thing.</summary>
    private static readonly HashSet<string> s_identities = new(StringComparer.Ordinal)
    {
        "service token", "batch token", "accessor", "lease id", "token lease key", "UUID", "JWT",
    };

    /// <summary>Replaces every learned recorded value in <paramref name="text"/> (longest first).</summary>
    public string Substitute(string text)
    {
        foreach (var (from, to) in Map.OrderByDescending(kv => kv.Key.Length))
        {
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>Learns the volatile values of <paramref name="actual"/>, then lists every difference from <paramref name="expected"/>.</summary>
    public void LearnAndCompare(JsonNode? expected, JsonNode? actual, List<string> diffs)
    {
        Learn(expected, actual, "$", diffs);
        Compare(expected, actual, "$", "", diffs);
    }

    /// <summary>Maps recorded volatile values to the ones DevVault returned at the same place.</summary>
    private void Learn(JsonNode? recorded, JsonNode? actual, string where, List<string> diffs)
    {
        switch (recorded)
        {
            case JsonObject ro when actual is JsonObject ao:
                foreach (var (k, v) in ro)
                {
                    if (ao.TryGetPropertyValue(k, out var av))
                    {
                        Learn(v, av, where + "." + k, diffs);
                    }
                }
                break;
            case JsonArray ra when actual is JsonArray aa:
                foreach (var r0 in ra.Select(x => x?.ToString() ?? ""))
                {
                    if (s_tokenLeaseHints.TryGetValue(r0, out var recordedToken) && Map.TryGetValue(recordedToken, out var token))
                    {
                        var suffix = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..48];
                        if (aa.Select(x => x?.ToString() ?? "").FirstOrDefault(x => x.EndsWith(suffix, StringComparison.Ordinal)) is { } key)
                        {
                            Add(r0, key, where, diffs);
                        }
                    }
                }
                if (IdentityList(ra) is { } recordedIds && Strings(aa) is { } actualIds)
                {
                    LearnUnordered(recordedIds, actualIds, where, diffs);
                    break;
                }
                for (var i = 0; i < Math.Min(ra.Count, aa.Count); i++)
                {
                    Learn(ra[i], aa[i], $"{where}[{i}]", diffs);
                }
                break;
            case JsonValue rv when actual is JsonValue av2 && rv.GetValueKind() == JsonValueKind.String && av2.GetValueKind() == JsonValueKind.String:
                var r = rv.GetValue<string>();
                var a = av2.GetValue<string>();
                if (r != a && Category(r) is not null && Category(r) == Category(a))
                {
                    Add(r, a, where, diffs);
                    var rs = r.LastIndexOf('/');
                    var as2 = a.LastIndexOf('/');
                    if (rs > 0 && as2 > 0)
                    {
                        Add(r[(rs + 1)..], a[(as2 + 1)..], where, diffs);
                    }
                }
                break;
        }
    }

    /// <summary>
    /// A list of identities (lease keys, accessors) is in an order that depends on the random values themselves
    /// (Vault sorts lease keys; the accessor list is unordered), so it is matched as a set: an entry learned before
    /// must be there, and a new entry is learned only when exactly one new value is left to pair it with.
    /// </summary>
    private void LearnUnordered(List<string> recorded, List<string> actual, string where, List<string> diffs)
    {
        var fresh = recorded.Where(r => !Map.ContainsKey(r)).Distinct().ToList();
        var claimed = recorded.Where(Map.ContainsKey).Select(r => Map[r]).ToHashSet(StringComparer.Ordinal);
        var unclaimed = actual.Where(a => !claimed.Contains(a) && !_learnedFrom.ContainsKey(a)).Distinct().ToList();
        // Within one shape (category and length: a 40-hex root lease key is not an h+64-hex one), a lone new
        // recorded value and a lone new DevVault value are the same thing.
        foreach (var group in fresh.GroupBy(Shape))
        {
            var candidates = unclaimed.Where(a => Shape(a) == group.Key).ToList();
            if (group.Count() == 1 && candidates.Count == 1)
            {
                Add(group.First(), candidates[0], where, diffs);
            }
        }
    }

    private static string Shape(string value) => $"{Category(value)}:{value.Length}";

    private void CompareUnordered(List<string> recorded, List<string> actual, string where, List<string> diffs)
    {
        if (recorded.Count != actual.Count)
        {
            diffs.Add($"{where}: {actual.Count} items [{string.Join(", ", actual)}], expected {recorded.Count} [{string.Join(", ", recorded)}]");
            return;
        }
        var left = actual.ToList();
        var unknown = new List<string>();
        foreach (var r in recorded)
        {
            if (Map.TryGetValue(r, out var mapped) && Category(r) is { } cat && s_identities.Contains(cat))
            {
                if (!left.Remove(mapped))
                {
                    diffs.Add($"{where}: lacks \"{mapped}\", DevVault's {cat} for recorded \"{r}\"");
                }
            }
            else
            {
                unknown.Add(r);
            }
        }
        foreach (var a in left)
        {
            if (_learnedFrom.TryGetValue(a, out var other) && !recorded.Contains(other))
            {
                diffs.Add($"{where}: lists \"{a}\", DevVault's value for recorded \"{other}\", which the recording does not list here");
            }
            else if (!unknown.Any(u => Category(u) == Category(a)))
            {
                diffs.Add($"{where}: \"{a}\" matches nothing in [{string.Join(", ", unknown)}]");
            }
        }
    }

    /// <summary>The strings of a list whose every entry is an identity; null for any other list.</summary>
    private static List<string>? IdentityList(JsonArray array) =>
        Strings(array) is { Count: > 0 } all && all.All(s => Category(s) is { } c && s_identities.Contains(c)) ? all : null;

    private static List<string>? Strings(JsonArray array) =>
        array.All(x => x?.GetValueKind() == JsonValueKind.String) ? array.Select(x => x!.GetValue<string>()).ToList() : null;

    /// <summary>First sight wins; a second recorded identity that DevVault answered with a known value is a difference.</summary>
    private void Add(string recorded, string actual, string where, List<string> diffs)
    {
        if (!Map.TryAdd(recorded, actual))
        {
            return; // Compare checks that a repeat matches.
        }
        if (Category(recorded) is { } cat && s_identities.Contains(cat))
        {
            if (_learnedFrom.TryGetValue(actual, out var other) && other != recorded)
            {
                diffs.Add($"{where}: \"{actual}\" was already DevVault's value for recorded \"{other}\", but the recording has a different {cat} \"{recorded}\" here");
            }
            _learnedFrom.TryAdd(actual, recorded);
        }
    }

    private static readonly string[] s_typeOnlyNumbers = ["creation_time", "server_time_utc", "last_renewal_time", "expiration"];
    private static readonly string[] s_approxNumbers = ["ttl", "lease_duration"];

    private void Compare(JsonNode? e, JsonNode? a, string where, string key, List<string> diffs)
    {
        var ek = e?.GetValueKind() ?? JsonValueKind.Null;
        var ak = a?.GetValueKind() ?? JsonValueKind.Null;
        if (ek is JsonValueKind.True or JsonValueKind.False && ak is JsonValueKind.True or JsonValueKind.False)
        {
            if (ek != ak)
            {
                diffs.Add($"{where}: {ak}, expected {ek}");
            }
            return;
        }
        if (ek != ak)
        {
            diffs.Add($"{where}: {ak} {a?.ToJsonString()}, expected {ek} {e?.ToJsonString()}");
            return;
        }
        switch (e)
        {
            case JsonObject eo:
                var ao = (JsonObject)a!;
                foreach (var k in eo.Select(kv => kv.Key).Except(ao.Select(kv => kv.Key)))
                {
                    diffs.Add($"{where}.{k}: missing");
                }
                foreach (var k in ao.Select(kv => kv.Key).Except(eo.Select(kv => kv.Key)))
                {
                    diffs.Add($"{where}.{k}: unexpected");
                }
                foreach (var (k, v) in eo)
                {
                    if (ao.TryGetPropertyValue(k, out var av))
                    {
                        Compare(v, av, where + "." + k, k, diffs);
                    }
                }
                break;
            case JsonArray ea:
                var aa = (JsonArray)a!;
                if (IdentityList(ea) is { } recordedIds && Strings(aa) is { } actualIds)
                {
                    CompareUnordered(recordedIds, actualIds, where, diffs);
                    return;
                }
                if (ea.Count != aa.Count)
                {
                    diffs.Add($"{where}: {aa.Count} items {aa.ToJsonString()}, expected {ea.Count} {ea.ToJsonString()}");
                    return;
                }
                for (var i = 0; i < ea.Count; i++)
                {
                    Compare(ea[i], aa[i], $"{where}[{i}]", key, diffs);
                }
                break;
            case JsonValue ev when ek == JsonValueKind.Number:
                var en = ev.GetValue<double>();
                var an = a!.GetValue<double>();
                if (s_typeOnlyNumbers.Contains(key) || (s_approxNumbers.Contains(key) && Math.Abs(en - an) <= 2) || en == an)
                {
                    return;
                }
                diffs.Add($"{where}: {an}, expected {en}");
                break;
            case JsonValue ev when ek == JsonValueKind.String:
                var es = ev.GetValue<string>();
                var as1 = a!.GetValue<string>();
                if (Map.TryGetValue(es, out var mapped))
                {
                    if (mapped == as1)
                    {
                        return;
                    }
                    if (Category(es) is { } identity && s_identities.Contains(identity))
                    {
                        diffs.Add($"{where}: \"{as1}\", but the recording repeats the {identity} that DevVault gave as \"{mapped}\"");
                        return;
                    }
                }
                if (es == as1)
                {
                    return;
                }
                if (Category(es) is { } cat)
                {
                    if (Category(as1) != cat)
                    {
                        diffs.Add($"{where}: \"{as1}\" is not a {cat} like \"{es}\"");
                    }
                    return;
                }
                if (where.Contains(".warnings", StringComparison.Ordinal) && Durations().Replace(es, "\"D\"") == Durations().Replace(as1, "\"D\""))
                {
                    return;
                }
                diffs.Add($"{where}: \"{as1}\", expected \"{es}\"");
                break;
        }
    }

    private static readonly (string Name, Regex Pattern)[] s_categories =
    [
        ("service token", new Regex(@"^s\.[A-Za-z0-9]{24}$")),
        ("batch token", new Regex(@"^b\.[A-Za-z0-9_-]{20,}$")),
        ("JWT", new Regex(@"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")),
        ("accessor", new Regex("^[A-Za-z0-9]{24}$")),
        ("UUID", new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")),
        ("RFC 3339 time", new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")),
        ("lease id", new Regex(@"^[A-Za-z0-9_.\-/]+/(h[0-9a-f]{64}|[0-9a-f]{40}|[A-Za-z0-9]{24})$")),
        ("token lease key", new Regex("^(h[0-9a-f]{64}|[0-9a-f]{40})$")),
        ("PEM", new Regex("^(-----BEGIN |<REDACTED IN TRANSCRIPT)")),
        ("certificate serial", new Regex("^([0-9a-f]{2}:)+[0-9a-f]{2}$")),
        ("TOTP code", new Regex(@"^\d{6}$")),
        ("mount accessor", new Regex("^[a-z_]+_[0-9a-f]{8}$")),
        ("cluster name", new Regex("^vault-cluster-[0-9a-f]{8}$")),
        ("transit ciphertext", new Regex(@"^vault:v\d+:")),
        ("base64 key", new Regex("^[A-Za-z0-9+/]{43}=$")),
    ];

    internal static string? Category(string s)
    {
        if (s == "0001-01-01T00:00:00Z")
        {
            return null;
        }
        foreach (var (name, pattern) in s_categories)
        {
            if (pattern.IsMatch(s))
            {
                return name;
            }
        }
        return null;
    }

    [GeneratedRegex("\"[0-9hms]+\"")]
    private static partial Regex Durations();
}
