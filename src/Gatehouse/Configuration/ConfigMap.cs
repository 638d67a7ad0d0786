using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// A method's or sink's free-form <c>config</c> map, as Vault keeps it (map[string]interface{}). Keys are kept with
/// their source nodes so that the method or sink that reads a key can report a wrong type at its place.
/// </summary>
internal sealed class ConfigMap
{
    public static readonly ConfigMap Empty = new(ImmutableDictionary<string, HclNode>.Empty, default);

    public ConfigMap(ImmutableDictionary<string, HclNode> values, SourcePosition position)
    {
        Values = values;
        Position = position;
    }

    public ImmutableDictionary<string, HclNode> Values { get; }

    /// <summary>Where the <c>config</c> block starts (or its parent block, when it has none).</summary>
    public SourcePosition Position { get; }

    public bool Contains(string key) => Values.ContainsKey(key);

    /// <summary>A string value; numbers and booleans are given as written (Vault's mapstructure is as lenient).</summary>
    public string? GetString(string key) => Values.TryGetValue(key, out var node) ? node switch
    {
        HclString s => s.Value,
        HclNumber n => n.Text,
        HclBool b => b.Value ? "true" : "false",
        _ => null,
    } : null;
}
