using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// Reads the keys of one HCL object (a block body) for the binder. Every key the binder asks for, reads or ignores
/// becomes a known key; <see cref="Finish"/> reports every other key as unknown, with the closest known key. Scalar
/// keys written more than once take the last value, as HCL1's decoder does. Type errors are reported at the value's
/// position and the getter returns null, so binding goes on and every problem is listed.
/// </summary>
internal sealed class BlockReader
{
    private readonly HclObject _body;
    private readonly ICollection<ConfigDiagnostic> _diagnostics;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly List<string> _knownInOrder = [];
    private readonly ICollection<KnownKey>? _knownKeys;

    /// <param name="knownKeys">When set, every key this reader comes to know is added, once (see <see cref="KnownKey"/>).</param>
    public BlockReader(HclObject body, string path, ICollection<ConfigDiagnostic> diagnostics, ICollection<KnownKey>? knownKeys = null)
    {
        _body = body;
        Path = path;
        _diagnostics = diagnostics;
        _knownKeys = knownKeys;
    }

    /// <summary>The block's path in messages, e.g. <c>listener "tcp"</c> or <c>vault.retry</c>.</summary>
    public string Path { get; }

    public SourcePosition Position => _body.Position;

    public string Child(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public void Error(SourcePosition position, string path, string message) =>
        _diagnostics.Add(new ConfigDiagnostic(position, path, message));

    /// <summary>Every item named <paramref name="key"/>, in source order (blocks, repeated keys).</summary>
    public IReadOnlyList<HclObjectItem> Items(string key)
    {
        Know(key);
        return [.. _body.Items.Where(i => i.Name == key)];
    }

    /// <summary>The last value written for <paramref name="key"/>, or null.</summary>
    public HclNode? Raw(string key)
    {
        Know(key);
        HclNode? last = null;
        foreach (var item in _body.Items)
        {
            if (item.Name == key)
                last = item.Keys.Count > 1 ? Labelled(item) : item.Value;
        }

        return last;
    }

    public bool Has(string key) => _body.Items.Any(i => i.Name == key);

    /// <summary>Where the last value written for <paramref name="key"/> is, or null (without making the key known).</summary>
    public SourcePosition? PositionOf(string key) => _body.Items.LastOrDefault(i => i.Name == key)?.Value.Position;

    /// <summary>Adds where each of <paramref name="keys"/> is written to <paramref name="origins"/>, as <c>prefix + key</c>.</summary>
    public void AddOrigins(IEnumerable<string> keys, string prefix, IDictionary<string, SourcePosition> origins)
    {
        foreach (var key in keys)
        {
            if (PositionOf(key) is { } position)
                origins[prefix + key] = position;
        }
    }

    /// <summary>Where each key's last value is written (see <see cref="ListenerConfig.PositionOf"/>).</summary>
    public ImmutableDictionary<string, SourcePosition> ValuePositions()
    {
        var positions = ImmutableDictionary.CreateBuilder<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var item in _body.Items)
            positions[item.Name] = item.Value.Position;
        return positions.ToImmutable();
    }

    public string? String(string key)
    {
        var node = Raw(key);
        if (node is null)
            return null;
        if (ValueParser.TryString(node, out var value, out var error))
            return value;
        Error(node.Position, Child(key), error);
        return null;
    }

    /// <summary>
    /// A string key read against a table of its spellings: absent or empty is <paramref name="unset"/>; other text not
    /// in <paramref name="choices"/> is reported at the value with <paramref name="message"/>(text) and is
    /// <paramref name="unset"/> too.
    /// </summary>
    public T Choice<T>(string key, T unset, IReadOnlyList<(string Text, T Value)> choices, Func<string, string> message)
    {
        var text = String(key);
        if (string.IsNullOrEmpty(text))
            return unset;
        foreach (var (spelling, value) in choices)
        {
            if (spelling == text)
                return value;
        }

        Error(Raw(key)!.Position, Child(key), message(text));
        return unset;
    }

    public bool? Bool(string key) => Read<bool>(key, ValueParser.TryBool);

    public int? Int(string key) => Read<int>(key, ValueParser.TryInt32);

    public long? Long(string key) => Read<long>(key, ValueParser.TryInt64);

    public TimeSpan? Duration(string key) => Read<TimeSpan>(key, ValueParser.TryDuration);

    public int? FileMode(string key) => Read<int>(key, ValueParser.TryFileMode);

    /// <summary>
    /// A list of strings; a single string is read as a comma-separated list, or, when <paramref name="splitCommas"/> is
    /// false (values that may hold commas, such as Vault paths), as a list of one.
    /// </summary>
    public IReadOnlyList<(string Value, SourcePosition Position)>? StringList(string key, bool splitCommas = true)
    {
        var node = Raw(key);
        switch (node)
        {
            case null:
                return null;
            case HclString s when !splitCommas:
                return [(s.Value, s.Position)];
            case HclString s:
                return [.. s.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(v => (v, s.Position))];
            case HclList list:
                var values = new List<(string, SourcePosition)>();
                foreach (var element in list.Items)
                {
                    if (ValueParser.TryString(element, out var text, out _) && element is not HclList)
                        values.Add((text, element.Position));
                    else
                        Error(element.Position, Child(key), $"expected a list of strings, got {ValueParser.Describe(element)} in the list");
                }

                return values;
            default:
                Error(node.Position, Child(key), $"expected a list of strings, got {ValueParser.Describe(node)}");
                return null;
        }
    }

    /// <summary>Known keys that Gatehouse accepts and deliberately does not use (Vault ignores them too).</summary>
    public void Ignore(params string[] keys)
    {
        foreach (var key in keys)
            Know(key, KnownKey.Use.Ignored);
    }

    /// <summary>Known keys that Gatehouse refuses: each one present is an error with <paramref name="message"/>.</summary>
    public void Refuse(string message, params string[] keys)
    {
        foreach (var key in keys)
        {
            Know(key, KnownKey.Use.Refused);
            foreach (var item in Items(key))
                Error(item.Keys[0].Position, Child(key), message);
        }
    }

    /// <summary>Reports every key that no getter asked for.</summary>
    public void Finish()
    {
        foreach (var item in _body.Items)
        {
            if (_known.Contains(item.Name))
                continue;
            var suggestion = Suggest(item.Name, _knownInOrder);
            var hint = suggestion is not null
                ? $"; did you mean {suggestion}?"
                : _knownInOrder.Count > 0 ? $"; valid keys here: {string.Join(", ", _knownInOrder)}" : "";
            Error(item.Keys[0].Position, Path, $"unknown key \"{item.Name}\"{hint}");
        }
    }

    /// <summary>The candidate closest to <paramref name="name"/> by edit distance, if it is close enough to be a typo.</summary>
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(name.ToLowerInvariant(), candidate);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        if (best is not null && bestDistance <= Math.Max(2, name.Length / 3))
            return best;

        // A key missing a word ("secret_id_path" for "secret_id_file_path") is still a likely typo.
        var words = name.ToLowerInvariant().Split('_');
        return candidates.FirstOrDefault(c => words.Length > 1 && words.All(w => c.Split('_').Contains(w)));
    }

    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private void Know(string key, KnownKey.Use how = KnownKey.Use.Read)
    {
        if (_known.Add(key))
        {
            _knownInOrder.Add(key);
            _knownKeys?.Add(new KnownKey(Path, key, how));
        }
    }

    // `key "label" = value` is not a scalar; hand the binder an object so that it reports a type error.
    private static HclObject Labelled(HclObjectItem item) => new([item], item.Position);

    private delegate bool Parser<T>(HclNode node, out T value, out string error);

    private T? Read<T>(string key, Parser<T> parse)
        where T : struct
    {
        var node = Raw(key);
        if (node is null)
            return null;
        if (parse(node, out var value, out var error))
            return value;
        Error(node.Position, Child(key), error);
        return null;
    }
}
