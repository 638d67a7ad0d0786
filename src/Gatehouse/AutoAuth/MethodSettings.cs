using Gatehouse.Configuration;

namespace Gatehouse.AutoAuth;

/// <summary>
/// Typed reads of a method's or sink's <c>config</c> map. The rules (which keys exist, their types, which are
/// required) live in one place, <see cref="MethodConfigRules"/>: the loader applies them to report every problem at
/// config-validation time, and the factories apply the same rules again before building (<see cref="Validate"/>),
/// so a method or sink never sees a value the rules refused. The getters parse with <see cref="ValueParser"/>, the
/// parser validation uses.
/// </summary>
internal sealed class MethodSettings(ConfigMap map, string owner)
{
    /// <summary>Who the keys belong to, for messages: <c>auto_auth.method "approle"</c>.</summary>
    public string Owner { get; } = owner;

    public ConfigMap Map { get; } = map;

    /// <summary>Throws <see cref="AutoAuthConfigException"/> listing every problem, each with its position.</summary>
    public static void Validate(IReadOnlyCollection<ConfigDiagnostic> problems)
    {
        if (problems.Count > 0)
        {
            throw new AutoAuthConfigException(string.Join("; ", problems.Select(p => p.ToString())));
        }
    }

    public string? GetString(string key)
    {
        var value = Map.GetString(key);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>A key the rules require; missing only if a caller skipped <see cref="Validate"/> (a bug).</summary>
    public string GetRequiredString(string key) =>
        GetString(key) ?? throw Error(key, $"missing '{key}' value");

    public bool GetBool(string key, bool defaultValue) => Read<bool>(key, ValueParser.TryBool) ?? defaultValue;

    /// <summary>A whole number, or a string in Go's base-0 syntax (so <c>"0640"</c> is octal).</summary>
    public long? GetInt64(string key) => Read<long>(key, ValueParser.TryInt64);

    /// <summary>A file mode: HCL's <c>0640</c> (already octal) or an octal string.</summary>
    public int? GetFileMode(string key) => Read<int>(key, ValueParser.TryFileMode);

    /// <summary>A duration: a Go duration string ("1m30s", "500ms") or whole seconds.</summary>
    public TimeSpan? GetDuration(string key) => Read<TimeSpan>(key, ValueParser.TryDuration);

    private delegate bool Parser<T>(Hcl.HclNode node, out T value, out string error);

    private T? Read<T>(string key, Parser<T> parse)
        where T : struct
    {
        if (!Map.Values.TryGetValue(key, out var node) || node is Hcl.HclString { Value: "" })
        {
            return null;
        }

        return parse(node, out var value, out var error) ? value : throw Error(key, $"{key}: {error}");
    }

    private AutoAuthConfigException Error(string key, string message) =>
        new(new ConfigDiagnostic(Map.PositionOf(key), Owner, message).ToString());
}

/// <summary>A method or sink cannot be built from its configuration. The message says where and what to fix.</summary>
internal sealed class AutoAuthConfigException(string message) : Exception(message);
