using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// A method's or sink's free-form <c>config</c> map, as Vault keeps it (map[string]interface{}). Keys are kept with
/// their source nodes so that the method or sink that reads a key can report a wrong type at its place.
/// The typed getters return null when the key is absent, and also when its value cannot be read, in which case they
/// add a positioned diagnostic to <c>diagnostics</c> (when given). The binder has already checked every key of the
/// methods and sinks Gatehouse knows, so at run time the getters only fail for keys nobody validated.
/// </summary>
internal sealed class ConfigMap
{
    public static readonly ConfigMap Empty = new(ImmutableDictionary<string, HclNode>.Empty, default);

    public ConfigMap(ImmutableDictionary<string, HclNode> values, SourcePosition position)
        : this(values, position, ImmutableDictionary<string, SourcePosition>.Empty)
    {
    }

    public ConfigMap(
        ImmutableDictionary<string, HclNode> values, SourcePosition position, ImmutableDictionary<string, SourcePosition> keyPositions)
    {
        Values = values;
        Position = position;
        KeyPositions = keyPositions;
    }

    /// <summary>Where each key is written (for messages about the key itself, such as an unknown key).</summary>
    public ImmutableDictionary<string, SourcePosition> KeyPositions { get; }

    /// <summary>The position of a key itself, or of its value when the key's place is not known.</summary>
    public SourcePosition KeyPositionOf(string key) => KeyPositions.TryGetValue(key, out var p) ? p : PositionOf(key);

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

    /// <summary>A boolean: true/false or a Go-bool string ("true", "1", "f", ...).</summary>
    public bool? GetBool(string key, ICollection<ConfigDiagnostic>? diagnostics = null, string path = "config") =>
        Get<bool>(key, ValueParser.TryBool, diagnostics, path);

    /// <summary>A whole number, or a string in Go's base-0 syntax.</summary>
    public int? GetInt(string key, ICollection<ConfigDiagnostic>? diagnostics = null, string path = "config") =>
        Get<int>(key, ValueParser.TryInt32, diagnostics, path);

    /// <summary>A Go duration string ("1m30s") or whole seconds.</summary>
    public TimeSpan? GetDuration(string key, ICollection<ConfigDiagnostic>? diagnostics = null, string path = "config") =>
        Get<TimeSpan>(key, ValueParser.TryDuration, diagnostics, path);

    /// <summary>A file mode: HCL octal literal (0640) or an octal string ("0640").</summary>
    public int? GetFileMode(string key, ICollection<ConfigDiagnostic>? diagnostics = null, string path = "config") =>
        Get<int>(key, ValueParser.TryFileMode, diagnostics, path);

    /// <summary>The position of a key's value, or of the map itself when the key is absent.</summary>
    public SourcePosition PositionOf(string key) => Values.TryGetValue(key, out var node) ? node.Position : Position;

    private delegate bool Parser<T>(HclNode node, out T value, out string error);

    private T? Get<T>(string key, Parser<T> parse, ICollection<ConfigDiagnostic>? diagnostics, string path)
        where T : struct
    {
        if (!Values.TryGetValue(key, out var node))
            return null;
        if (parse(node, out var value, out var error))
            return value;
        diagnostics?.Add(new ConfigDiagnostic(node.Position, $"{path}.{key}", error));
        return null;
    }
}
