using System.Text.Json;

namespace Gatehouse.Cache.Static;

/// <summary>What one frame of Vault's event stream says about KV.</summary>
internal enum KvEventKind
{
    /// <summary>A KV secret changed: <see cref="KvEventFrame.Namespace"/> and <see cref="KvEventFrame.Path"/> name it.</summary>
    Changed,

    /// <summary>Well-formed but not about a KV change (another plugin, or <c>modified</c> is not "true").</summary>
    Ignored,

    /// <summary>Not the JSON Vault sends (not JSON, or no <c>data.event.metadata</c>, <c>event_type</c> or <c>path</c>).</summary>
    Malformed,
}

/// <summary>
/// Reads one text frame of <c>GET /v1/sys/events/subscribe/kv*?json=true</c>: Vault's CloudEvents envelope
/// (<c>{"id","source","specversion","type","data":{"event":{"id","metadata":{...}},"event_type","plugin_info":{...},
/// "namespace"},"datacontentype","time"}</c>), as the KV plugin fills it (see docs/lease-cache.md, "Vault event stream").
/// </summary>
internal readonly record struct KvEventFrame(KvEventKind Kind, string Namespace, string Path, string? EventType)
{
    private static readonly string[] Kv2Heads = ["data/", "metadata/", "delete/", "undelete/", "destroy/"];

    /// <summary>
    /// Parses a frame. For a change, <see cref="Namespace"/> is the event's namespace ("" for the root namespace, else
    /// with one trailing slash: <c>ns1/</c>) and <see cref="Path"/> the API path relative to it: for KV v2 the
    /// secret's data path (<c>secret/data/app</c>) whichever form was written (<c>data/</c>, <c>metadata/</c>,
    /// <c>delete/</c>, <c>undelete/</c>, <c>destroy/</c>); otherwise the event's own <c>metadata.path</c>
    /// (KV v1's <c>kv1/app</c>, KV v2's <c>secret/config</c>).
    /// </summary>
    public static KvEventFrame Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8);
            return Parse(document.RootElement);
        }
        catch (JsonException)
        {
            return Malformed;
        }
    }

    private static KvEventFrame Malformed => new(KvEventKind.Malformed, "", "", null);

    private static KvEventFrame Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !TryObject(root, "data", out var data)
            || !TryObject(data, "event", out var evt)
            || !TryObject(evt, "metadata", out var metadata)
            || String(data, "event_type") is not { } eventType)
        {
            return Malformed;
        }

        // Vault Proxy's rule: only events that say they modified data matter (kv events all do today).
        var kv1 = eventType.StartsWith("kv-v1/", StringComparison.Ordinal);
        var kv2 = eventType.StartsWith("kv-v2/", StringComparison.Ordinal);
        if ((!kv1 && !kv2) || String(metadata, "modified") != "true")
        {
            return new KvEventFrame(KvEventKind.Ignored, "", "", eventType);
        }

        if (String(metadata, "path") is not { Length: > 0 } path)
        {
            return Malformed;
        }

        var ns = NormalizeNamespace(String(data, "namespace"));
        path = path.TrimStart('/');
        if (kv2 && TryObject(data, "plugin_info", out var plugin) && String(plugin, "mount_path") is { Length: > 0 } mount
            && path.StartsWith(mount.TrimStart('/'), StringComparison.Ordinal))
        {
            // Strip the mount first, so that a mount or secret named "data" or "delete" cannot confuse the rewrite.
            mount = mount.TrimStart('/');
            var rest = path[mount.Length..];
            foreach (var head in Kv2Heads)
            {
                if (rest.StartsWith(head, StringComparison.Ordinal) && rest.Length > head.Length)
                {
                    return new KvEventFrame(KvEventKind.Changed, ns, mount + "data/" + rest[head.Length..], eventType);
                }
            }
        }

        return new KvEventFrame(KvEventKind.Changed, ns, path, eventType);
    }

    /// <summary>"" for the root namespace (absent, empty or "/"), otherwise without a leading slash and with one trailing slash.</summary>
    private static string NormalizeNamespace(string? ns)
    {
        var trimmed = (ns ?? "").Trim('/');
        return trimmed.Length == 0 ? "" : trimmed + "/";
    }

    private static bool TryObject(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.Object;

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
