using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Shared;

namespace Gatehouse.Cache.Static;

/// <summary>A grant as the fleet holds it: when Vault last confirmed it (a read, or capabilities-self), and what is known of the token.</summary>
internal sealed record FleetGrant(DateTimeOffset ConfirmedAt, string? Accessor, DateTimeOffset? ExpiresAt);

/// <summary>One read of a static secret as the fleet holds it (opened): what it is, the answer, and which write of it this is.</summary>
internal sealed record FleetSecret(StaticSecretInfo Info, CachedResponse Response, long LeaseDuration, DateTimeOffset FetchedAt, long Epoch, string Stamp);

/// <summary>
/// The names and sealed values of the static-secret cache's records in Redis (<see cref="SharedStaticSecrets"/>).
/// Every name is an HMAC under the naming key (<see cref="SharedKeys.Name(string, string)"/>) with a purpose of its
/// own, so no token, accessor, namespace or path appears in Redis; every value is sealed (<see cref="Sealer"/>) with
/// the Redis key and hash field it is stored at as associated data, so a value moved to another secret, read or
/// token does not open.
/// </summary>
internal sealed class SharedStaticRecords(SharedStore store)
{
    /// <summary>The hash of one secret's reads: <c>ss:{sid}</c> (fields <c>{rid}</c> sealed, <c>v:{rid}</c> version).</summary>
    public string SecretKey(string secretId) => store.Key("ss", SecretName(secretId));

    /// <summary>The counter of writes to one secret seen by the fleet (<c>sw:{sid}</c>): a fill stores only if it did not move.</summary>
    public string WritesKey(string secretId) => store.Key("sw", SecretName(secretId));

    /// <summary>The hash of one token's grants: <c>sg:{tid}</c>, fields <c>{gid}</c>.</summary>
    public string GrantsKey(string token) => store.Key("sg", store.Keys.Name("static token", token));

    /// <summary>Accessor → the token's grants key (<c>sa:{aid}</c>), so a revoke-accessor reaches grants no replica holds.</summary>
    public string AccessorKey(string accessor) => store.Key("sa", store.Keys.Name("static accessor", accessor));

    /// <summary>Bumped by every cache-clear and mount-wide change: records written under an older epoch are never taken.</summary>
    public string EpochKey => store.Key("sepoch");

    /// <summary>The KV mounts of a namespace the fleet has learned: <c>sm:{nid}</c>, fields <c>{mid}</c> sealed.</summary>
    public string MountsKey(string @namespace) => store.Key("sm", store.Keys.Name("static mounts", @namespace));

    public string MountField(string @namespace, string mountPath) => store.Keys.Name("static mount", @namespace + "\n" + mountPath);

    public byte[] SealMount(string mountsKey, string field, string mountPath, MountKind kind) =>
        store.Sealer.Seal(mountsKey + ":" + field, System.Text.Encoding.UTF8.GetBytes((kind == MountKind.KvV2 ? "2:" : "1:") + mountPath));

    /// <summary>A learned KV mount (path, kind), or null when it does not open or is not one.</summary>
    public (string Path, MountKind Kind)? OpenMount(string mountsKey, string field, byte[] envelope)
    {
        if (Open(mountsKey + ":" + field, envelope).Plain is not { Length: > 2 } plain)
        {
            return null;
        }

        var text = System.Text.Encoding.UTF8.GetString(plain);
        return text[0] is '1' or '2' && text[1] == ':' && text.EndsWith('/')
            ? (text[2..], text[0] == '2' ? MountKind.KvV2 : MountKind.KvV1)
            : null;
    }

    public string ReadField(CacheKey key) => store.Keys.Name("static read", key.ToString());

    public static string VersionField(string readField) => "v:" + readField;

    public string GrantField(GrantPath path) => store.Keys.Name("static grant", path.Namespace + "\n" + path.ReadPath);

    private string SecretName(string secretId) => store.Keys.Name("static secret", secretId);

    /// <summary>The version field's value: when the read was fetched or last revalidated, and the write's stamp.</summary>
    public static string VersionText(DateTimeOffset validatedAt, string stamp) =>
        string.Create(CultureInfo.InvariantCulture, $"{validatedAt.ToUnixTimeMilliseconds()}:{stamp}");

    public static (DateTimeOffset ValidatedAt, string Stamp)? ParseVersion(string? text)
    {
        var colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? (DateTimeOffset.FromUnixTimeMilliseconds(ms), text![(colon + 1)..])
            : null;
    }

    public byte[] SealSecret(string secretKey, string readField, FleetSecret secret)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            var info = secret.Info;
            json.WriteStartObject();
            json.WriteNumber("epoch", secret.Epoch);
            json.WriteString("stamp", secret.Stamp);
            json.WriteString("ns", info.Namespace);
            json.WriteString("mount", info.MountPath);
            json.WriteNumber("kv", info.KvVersion);
            json.WriteString("path", info.SecretPath);
            if (info.PinnedVersion is { } pinned)
            {
                json.WriteNumber("pin", pinned);
            }

            json.WriteNumber("version", info.Version);
            json.WriteString("deletion_time", info.DeletionTime);
            json.WriteBoolean("destroyed", info.Destroyed);
            if (info.CustomMetadata is { } custom)
            {
                json.WriteString("custom_metadata", custom);
            }

            json.WriteNumber("fetched_ms", secret.FetchedAt.ToUnixTimeMilliseconds());
            json.WriteNumber("lease_duration", secret.LeaseDuration);
            json.WriteNumber("status", secret.Response.StatusCode);
            json.WriteStartObject("headers");
            foreach (var (name, values) in secret.Response.Headers)
            {
                json.WriteStartArray(name);
                foreach (var value in values)
                {
                    json.WriteStringValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteBase64String("body", secret.Response.Body);
            json.WriteEndObject();
        }

        return store.Sealer.Seal(secretKey + ":" + readField, buffer.ToArray());
    }

    /// <summary>
    /// Opens a read's record; null (and why) when it does not open under this replica's key, is not one this build
    /// reads, or names another read than <paramref name="expected"/>.
    /// </summary>
    public (FleetSecret? Secret, string? Problem) OpenSecret(string secretKey, string readField, byte[] envelope, CacheKey expected)
    {
        var (plain, problem) = Open(secretKey + ":" + readField, envelope);
        if (plain is null)
        {
            return (null, problem);
        }

        try
        {
            using var document = JsonDocument.Parse(plain);
            var root = document.RootElement;
            var info = new StaticSecretInfo(
                root.GetProperty("ns").GetString()!,
                root.GetProperty("mount").GetString()!,
                root.GetProperty("kv").GetInt32(),
                root.GetProperty("path").GetString()!,
                root.TryGetProperty("pin", out var pin) ? pin.GetInt32() : null)
            {
                Version = root.GetProperty("version").GetInt32(),
                DeletionTime = root.GetProperty("deletion_time").GetString()!,
                Destroyed = root.GetProperty("destroyed").GetBoolean(),
                CustomMetadata = root.TryGetProperty("custom_metadata", out var cm) ? cm.GetString() : null,
            };
            if (StaticSecretCache.KeyOf(info) != expected)
            {
                return (null, "it holds another read than the one it is stored for");
            }

            var headers = new List<KeyValuePair<string, string[]>>();
            foreach (var header in root.GetProperty("headers").EnumerateObject())
            {
                headers.Add(KeyValuePair.Create(header.Name, header.Value.EnumerateArray().Select(v => v.GetString()!).ToArray()));
            }

            var response = new CachedResponse(root.GetProperty("status").GetInt32(), headers, root.GetProperty("body").GetBytesFromBase64(), authTtl: false);
            return (new FleetSecret(
                info, response, root.GetProperty("lease_duration").GetInt64(),
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("fetched_ms").GetInt64()),
                root.GetProperty("epoch").GetInt64(), root.GetProperty("stamp").GetString()!), null);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            return (null, "it is not a static secret record this build reads");
        }
    }

    public byte[] SealGrant(string grantsKey, string grantField, FleetGrant grant)
    {
        // JsonNode: reflection-based serialization is not available in the Native AOT build.
        var json = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["confirmed_ms"] = grant.ConfirmedAt.ToUnixTimeMilliseconds(),
            ["accessor"] = grant.Accessor,
            ["expires_ms"] = grant.ExpiresAt?.ToUnixTimeMilliseconds(),
        }.ToJsonString());
        return store.Sealer.Seal(grantsKey + ":" + grantField, json);
    }

    public (FleetGrant? Grant, string? Problem) OpenGrant(string grantsKey, string grantField, byte[] envelope)
    {
        var (plain, problem) = Open(grantsKey + ":" + grantField, envelope);
        if (plain is null)
        {
            return (null, problem);
        }

        try
        {
            using var document = JsonDocument.Parse(plain);
            var root = document.RootElement;
            var expires = root.GetProperty("expires_ms");
            var accessor = root.GetProperty("accessor");
            return (new FleetGrant(
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("confirmed_ms").GetInt64()),
                accessor.ValueKind == JsonValueKind.String ? accessor.GetString() : null,
                expires.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeMilliseconds(expires.GetInt64()) : null), null);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (null, "it is not a grant record this build reads");
        }
    }

    /// <summary>Opens an envelope; a foreign key is logged by the store (once, with both key ids), anything else is the caller's to log.</summary>
    private (byte[]? Plain, string? Problem) Open(string name, byte[] envelope)
    {
        var opened = store.Sealer.Open(name, envelope);
        switch (opened.Status)
        {
            case SealStatus.Opened:
                return (opened.Plaintext, null);
            case SealStatus.OtherKey:
                store.Open(name, envelope);
                return (null, null);
            default:
                return (null, "it does not open under this replica's key (damaged, or moved from another record)");
        }
    }
}
