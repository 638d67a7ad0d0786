using System.Collections.Concurrent;
using System.Text.Json;

namespace Gatehouse.Cache.Static;

internal enum MountKind
{
    /// <summary>Any engine but KV: its reads are never cached as static secrets.</summary>
    Other,
    KvV1,
    KvV2,
}

internal sealed record KnownMount(string Path, MountKind Kind, DateTimeOffset LearnedAt);

/// <summary>
/// The mounts the static-secret cache has learned, per namespace, from <c>sys/internal/ui/mounts/&lt;path&gt;</c> (the
/// endpoint the Vault CLI asks before <c>vault kv get</c>): which path prefixes are KV v1, KV v2 or something else.
/// An entry is trusted for <see cref="Ttl"/>, then learned again; a write to <c>sys/mounts</c> or
/// <c>sys/remount</c> through Gatehouse forgets the namespace's mounts at once.
/// </summary>
internal sealed class KvMounts
{
    private readonly ConcurrentDictionary<string, KnownMount[]> _byNamespace = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public KvMounts(TimeProvider time, TimeSpan ttl)
    {
        _time = time;
        Ttl = ttl;
    }

    public TimeSpan Ttl { get; }

    /// <summary>
    /// The longest known mount whose path starts <paramref name="apiPath"/>, or null; one learned more than
    /// <see cref="Ttl"/> ago only with <paramref name="includeExpired"/>.
    /// </summary>
    public KnownMount? Find(string @namespace, string apiPath, bool includeExpired = false)
    {
        if (!_byNamespace.TryGetValue(@namespace, out var mounts))
        {
            return null;
        }

        KnownMount? best = null;
        foreach (var mount in mounts)
        {
            if ((best is null || mount.Path.Length > best.Path.Length) && apiPath.StartsWith(mount.Path, StringComparison.Ordinal))
            {
                best = mount;
            }
        }

        return best is not null && (includeExpired || _time.GetUtcNow() - best.LearnedAt < Ttl) ? best : null;
    }

    /// <summary>Every known KV mount of a namespace, expired ones included (evicting by mount needs them all).</summary>
    public IEnumerable<KnownMount> KvMountsOf(string @namespace) =>
        _byNamespace.TryGetValue(@namespace, out var mounts) ? mounts.Where(m => m.Kind != MountKind.Other) : [];

    public void Learn(string @namespace, string mountPath, MountKind kind)
    {
        var learned = new KnownMount(mountPath, kind, _time.GetUtcNow());
        _byNamespace.AddOrUpdate(
            @namespace,
            _ => [learned],
            (_, existing) => [.. existing.Where(m => m.Path != mountPath), learned]);
    }

    public void ForgetNamespace(string @namespace) => _byNamespace.TryRemove(@namespace, out _);

    /// <summary>
    /// Reads a <c>sys/internal/ui/mounts/&lt;path&gt;</c> answer: the mount's path and kind (<c>kv</c> with
    /// <c>options.version</c> "2" is KV v2; <c>kv</c> otherwise, and the legacy <c>generic</c>, are KV v1). Null when
    /// the answer is not that shape.
    /// </summary>
    public static (string Path, MountKind Kind)? ParseUiMount(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("path", out var pathElement) || pathElement.ValueKind != JsonValueKind.String
                || !data.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var path = pathElement.GetString()!;
            if (path.Length == 0)
            {
                return null;
            }

            path = path.EndsWith('/') ? path : path + "/";
            var version = data.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var kind = typeElement.GetString() switch
            {
                "kv" => version == "2" ? MountKind.KvV2 : MountKind.KvV1,
                "generic" => MountKind.KvV1,
                _ => MountKind.Other,
            };
            return (path, kind);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
