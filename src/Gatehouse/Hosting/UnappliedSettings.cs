using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Hosting;

/// <summary>
/// Which settings differ between the configuration in effect and a reloaded one, other than those a reload applies
/// (<c>log_level</c> and the listeners' <c>tls_cert_file</c>/<c>tls_key_file</c>): each one needs a restart. Keys
/// are named by their path in the file (<c>api_proxy.use_auto_auth_token</c>, <c>listener[0].address</c>,
/// <c>auto_auth.method.config.role_id_file_path</c>). Walks the records, so a setting added later is covered
/// without being listed here; where a value was written (positions, source files) is not a setting.
/// </summary>
internal static class UnappliedSettings
{
    private static readonly HashSet<string> NotSettings =
        [nameof(GatehouseConfig.SourceFiles), nameof(GatehouseConfig.Origins), "Position", "ValuePositions", "KeyPositions"];

    private static readonly Dictionary<string, string> FileNames = new(StringComparer.Ordinal)
    {
        [nameof(GatehouseConfig.Listeners)] = "listener",
        [nameof(AutoAuthConfig.Sinks)] = "sink",
    };

    /// <summary>Where a record's path differs from the file's (the <c>vault</c> stanza keeps <c>retry</c> flat).</summary>
    private static readonly Dictionary<string, string> FilePaths = new(StringComparer.Ordinal)
    {
        ["vault.num_retries"] = "vault.retry.num_retries",
        ["vault.unavailable_retry_budget"] = "vault.retry.unavailable_budget",
    };

    /// <summary>The changed settings a reload does not apply, in the order the records declare them.</summary>
    public static IReadOnlyList<string> Between(GatehouseConfig inEffect, GatehouseConfig reloaded)
    {
        var changed = new List<string>();
        Compare(inEffect, reloaded, "", changed);
        return [.. changed.Where(key => !IsApplied(key)).Distinct(StringComparer.Ordinal)];
    }

    private static bool IsApplied(string key) =>
        key == "log_level"
        || (key.StartsWith("listener[", StringComparison.Ordinal)
            && (key.EndsWith(".tls_cert_file", StringComparison.Ordinal) || key.EndsWith(".tls_key_file", StringComparison.Ordinal)));

    private static void Compare(object? a, object? b, string path, List<string> changed)
    {
        if (a is null || b is null)
        {
            if (a is not null || b is not null)
            {
                changed.Add(path);
            }

            return;
        }

        // A pattern list is one setting: named as a whole, compared by its patterns and not where they are written.
        if (a is IReadOnlyList<PathPatternConfig> patterns && b is IReadOnlyList<PathPatternConfig> other)
        {
            if (!patterns.Select(p => p.Pattern).SequenceEqual(other.Select(p => p.Pattern), StringComparer.Ordinal))
            {
                changed.Add(path);
            }

            return;
        }

        if (a.GetType() != b.GetType())
        {
            changed.Add(path);
            return;
        }

        switch (a)
        {
            case string or ValueType or Uri:
                if (!a.Equals(b))
                {
                    changed.Add(path);
                }

                return;
            case ConfigMap map:
                CompareDictionaries(map.Values, ((ConfigMap)b).Values, path, changed);
                return;
            case HclNode node:
                if (Render(node) != Render((HclNode)b))
                {
                    changed.Add(path);
                }

                return;
            case IDictionary dictionary:
                CompareDictionaries(dictionary, (IDictionary)b, path, changed);
                return;
            case IEnumerable sequence:
                var left = sequence.Cast<object?>().ToList();
                var right = ((IEnumerable)b).Cast<object?>().ToList();
                if (left.Count != right.Count)
                {
                    changed.Add(path);
                    return;
                }

                for (var i = 0; i < left.Count; i++)
                {
                    Compare(left[i], right[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), changed);
                }

                return;
        }

        foreach (var property in RecordType(a).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // Settings are init properties; get-only ones (EffectiveAddress) are derived from them.
            if (property.SetMethod is null || property.GetIndexParameters().Length > 0 || NotSettings.Contains(property.Name))
            {
                continue;
            }

            var name = FileNames.TryGetValue(property.Name, out var fileName) ? fileName : SnakeCase(property.Name);
            var key = path.Length == 0 ? name : $"{path}.{name}";
            Compare(property.GetValue(a), property.GetValue(b), FilePaths.GetValueOrDefault(key, key), changed);
        }
    }

    /// <summary>
    /// The configuration record's type, each named once with <c>typeof</c>: that is what makes the trimmer (Native AOT)
    /// keep their public properties for the walk above; <c>a.GetType()</c> would give it nothing to keep. A record
    /// added to the configuration must be added here (UnappliedSettingsTests walks GatehouseConfig to check).
    /// </summary>
    [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
    internal static Type RecordType(object record) => record switch
    {
        GatehouseConfig => typeof(GatehouseConfig),
        VaultConfig => typeof(VaultConfig),
        AutoAuthConfig => typeof(AutoAuthConfig),
        AuthMethodConfig => typeof(AuthMethodConfig),
        SinkConfig => typeof(SinkConfig),
        ApiProxyConfig => typeof(ApiProxyConfig),
        CacheConfig => typeof(CacheConfig),
        PersistConfig => typeof(PersistConfig),
        SharedConfig => typeof(SharedConfig),
        ListenerConfig => typeof(ListenerConfig),
        TelemetryConfig => typeof(TelemetryConfig),
        _ => throw new InvalidOperationException(
            $"UnappliedSettings does not know the configuration record {record.GetType().Name}; add it to UnappliedSettings.RecordType"),
    };

    private static void CompareDictionaries(IDictionary a, IDictionary b, string path, List<string> changed)
    {
        var keys = a.Keys.Cast<object>().Concat(b.Keys.Cast<object>()).Select(k => k.ToString()!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            Compare(a.Contains(key) ? a[key] : null, b.Contains(key) ? b[key] : null, $"{path}.{key}", changed);
        }
    }

    /// <summary>A node's value without its position.</summary>
    private static string Render(HclNode node) => node switch
    {
        HclString s => "\"" + s.Value + "\"",
        HclNumber n => n.Text,
        HclBool b => b.Value ? "true" : "false",
        HclNull => "null",
        HclList l => "[" + string.Join(",", l.Items.Select(Render)) + "]",
        HclObject o => "{" + string.Join(",", o.Items.Select(i => string.Join(" ", i.Keys.Select(k => k.Name)) + "=" + Render(i.Value))) + "}",
        _ => node.GetType().Name,
    };

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
