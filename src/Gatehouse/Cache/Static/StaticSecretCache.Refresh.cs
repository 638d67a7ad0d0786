using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Gatehouse.Cache.Static;

/// <summary>
/// The static-secret cache's background work: re-checking grants with <c>sys/capabilities-self</c>, revalidating
/// entries against Vault (KV v2 metadata, else a re-read), and reacting to Vault's event stream. Hits never wait for
/// any of it; <see cref="StaticSecretRefresher"/> runs the passes on the injected clock.
/// </summary>
internal sealed partial class StaticSecretCache
{
    private readonly Channel<string?> _changed = Channel.CreateBounded<string?>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>Secrets whose metadata the readers may not see (403): revalidated by re-reading instead (bounded).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _metadataDenied = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _passLock = new(1, 1);

    /// <summary>Secret ids (null: everything) the event stream says changed, for <see cref="StaticSecretRefresher"/>.</summary>
    internal ChannelReader<string?> Changed => _changed.Reader;

    /// <summary>
    /// Runs one pass; a failure is logged and counted, never thrown (the next interval tries again). Passes are
    /// serialised, so a revalidation never races a capability refresh over the same grants.
    /// </summary>
    internal async Task RunPassAsync(string pass, Func<CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        await _passLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await run(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.PassFailed(_logger, pass, exception);
        }
        finally
        {
            _passLock.Release();
            PassCompleted?.Invoke(pass);
        }
    }

    /// <summary>Raised after each pass ("capability refresh", "revalidation", "event"), failed or not (tests, diagnostics).</summary>
    internal event Action<string>? PassCompleted;

    public void KvChanged(string namespacePath, string path)
    {
        var ns = KvRequests.NormalizeNamespace(namespacePath);
        var apiPath = path.TrimStart('/');
        if (Mounts.Find(ns, apiPath, includeExpired: true) is not { Kind: not MountKind.Other } mount)
        {
            return;
        }

        var target = KvRequests.WriteTarget(ns, mount, apiPath) ?? StaticSecretInfo.MountPrefix(ns, mount.Path);
        if (!_changed.Writer.TryWrite(target))
        {
            // Too many changes queued: revalidating everything at once covers them all.
            _changed.Writer.TryWrite(null);
        }
    }

    /// <summary>Completes the first time Vault's event stream comes up (tests, diagnostics).</summary>
    internal Task EventStreamUp => _eventStreamUp.Task;

    private readonly TaskCompletionSource _eventStreamUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void StreamStateChanged(bool up)
    {
        if (up)
        {
            _eventStreamUp.TrySetResult();
            // Events sent while the stream was down are lost: everything cached may be stale.
            _changed.Writer.TryWrite(null);
        }
    }

    /// <summary>
    /// Revalidates the entries of the secrets named (a secret id, a prefix ending in a newline, or null for all).
    /// Returns the number of secrets whose entries were refreshed or evicted.
    /// </summary>
    internal async Task<int> RevalidateAsync(string? target, CancellationToken cancellationToken)
    {
        var entries = Index.Snapshot().Where(e => e.Kind == CacheEntryKind.StaticSecret && e.Static is { } s
            && (target is null || (target.EndsWith('\n') ? s.SecretId.StartsWith(target, StringComparison.Ordinal) : s.SecretId == target)));
        int unchanged = 0, refreshed = 0, evicted = 0, unavailable = 0;
        foreach (var secret in entries.GroupBy(e => e.Static!.SecretId).ToList())
        {
            var (u, r, e, n) = await RevalidateSecretAsync(secret.Key, [.. secret], cancellationToken).ConfigureAwait(false);
            unchanged += u;
            refreshed += r;
            evicted += e;
            unavailable += n;
        }

        _metrics.StaticRevalidations(unchanged, refreshed, evicted, unavailable);
        if (refreshed + evicted + unavailable > 0)
        {
            Log.Revalidated(_logger, unchanged, refreshed, evicted, unavailable);
        }

        return refreshed + evicted;
    }

    private async Task<(int Unchanged, int Refreshed, int Evicted, int Unavailable)> RevalidateSecretAsync(
        string secretId, List<CacheEntry> entries, CancellationToken cancellationToken)
    {
        var info = entries[0].Static!;
        var now = _time.GetUtcNow();
        var reader = ReaderFor(GrantOf(info), now);
        if (reader is null)
        {
            // No token may be served it any more: nobody needs it.
            var gone = Index.EvictSecret(secretId, EvictionReason.Expired);
            Log.Evicted(_logger, info.Namespace, info.ReadPath, "no token holds a read grant");
            return (0, 0, gone, 0);
        }

        var epoch = Interlocked.Read(ref _epochs[StripeOf(secretId)]);
        // Shared cache: the fleet's write counter before Vault is asked, so a change found is written only if no write came since.
        var fleetWrites = Shared is { } fleet ? await fleet.WritesOfAsync(secretId, cancellationToken).ConfigureAwait(false) : null;
        List<CacheEntry> reread = [];
        int unchanged = 0, evicted = 0, unavailable = 0;
        if (info.KvVersion == 2 && !_metadataDenied.ContainsKey(secretId))
        {
            var metadata = await _vault.SendRawAsync(HttpMethod.Get, $"{info.MountPath}metadata/{info.SecretPath}", reader, null, NamespaceHeader(info.Namespace), cancellationToken).ConfigureAwait(false);
            switch (metadata.Status)
            {
                case 200:
                    var current = ParseMetadata(metadata.Body);
                    foreach (var entry in entries)
                    {
                        if (current is not null && current.Matches(entry.Static!))
                        {
                            Touch(entry, epoch);
                            unchanged++;
                        }
                        else
                        {
                            reread.Add(entry);
                        }
                    }

                    break;
                case 404:
                    _ = Shared?.InvalidateAsync([secretId], CancellationToken.None);
                    return (0, 0, Index.EvictSecret(secretId, EvictionReason.Revoked), 0);
                case 403:
                    if (_metadataDenied.Count < 10_000)
                    {
                        _metadataDenied[secretId] = true;
                    }

                    reread.AddRange(entries);
                    break;
                default:
                    return (0, 0, 0, entries.Count);
            }
        }
        else
        {
            reread.AddRange(entries);
        }

        var refreshed = 0;
        foreach (var entry in reread)
        {
            var s = entry.Static!;
            var path = s.Query is { } q ? $"{s.ReadPath}?{q}" : s.ReadPath;
            var answer = await _vault.SendRawAsync(HttpMethod.Get, path, reader, null, NamespaceHeader(s.Namespace), cancellationToken).ConfigureAwait(false);
            if (answer.IsUnavailable)
            {
                unavailable++;
                continue;
            }

            if (answer.Status == 403)
            {
                // The reader lost access since its grant was checked: it loses the grant; another reader tries next pass.
                Grants.Revoke(reader, GrantOf(s));
                Shared?.GrantRevoked(reader, GrantOf(s));
                unavailable++;
                continue;
            }

            if (answer.Status != 200 || Qualify(answer.Body) is not { } read || read.IsV2 != (s.KvVersion == 2))
            {
                evicted += Index.Evict(entry, EvictionReason.Revoked);
                _ = Shared?.InvalidateAsync([secretId], CancellationToken.None);
                continue;
            }

            if (Interlocked.Read(ref _epochs[StripeOf(secretId)]) != epoch)
            {
                // A write went through meanwhile and evicted it; what was read may be older than the write.
                continue;
            }

            if (answer.Body.AsSpan().SequenceEqual(entry.Response!.Body))
            {
                Touch(entry, epoch);
                unchanged++;
                continue;
            }

            var updated = s with { Version = read.Version, DeletionTime = read.DeletionTime, Destroyed = read.Destroyed, CustomMetadata = read.CustomMetadata };
            var replacement = NewEntry(entry.Id, updated, new CachedResponse(200, entry.Response.Headers, answer.Body, authTtl: false), read.LeaseDuration);
            if (Index.TryReplace(entry, replacement))
            {
                refreshed++;
                Shared?.Replace(replacement, fleetWrites);
            }
        }

        return (unchanged, refreshed, evicted, unavailable);
    }

    /// <summary>Marks an entry as validated now (its <c>Age</c> restarts), unless a write evicted it meanwhile.</summary>
    private void Touch(CacheEntry entry, long epoch)
    {
        if (Interlocked.Read(ref _epochs[StripeOf(entry.Static!.SecretId)]) == epoch)
        {
            var touched = NewEntry(entry.Id, entry.Static, entry.Response!, entry.OriginalTtlSeconds);
            if (Index.TryReplace(entry, touched))
            {
                Shared?.Touch(touched);
            }
        }
    }

    /// <summary>The token that revalidates a secret: the auto-auth token when it holds the grant, else any live holder.</summary>
    private string? ReaderFor(GrantPath path, DateTimeOffset now) =>
        Grants.ReadersOf(path, now, _tokens?.Current?.Token).FirstOrDefault();

    /// <summary>
    /// Re-checks every token's grants with <c>sys/capabilities-self</c> (one request per token and namespace): a path
    /// without <c>read</c> (or <c>root</c>) loses its grant; a token Vault refuses (400/401/403) loses all of them;
    /// when Vault cannot answer, pessimistic (the default) drops the token's grants and optimistic keeps them.
    /// </summary>
    internal async Task RefreshCapabilitiesAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var record in Grants.Snapshot())
        {
            if (record.ExpiresAt is { } expires && now >= expires)
            {
                Grants.Drop(record.Token);
                _metrics.StaticCapabilityCheck("expired");
                continue;
            }

            List<GrantPath> kept = [];
            foreach (var group in record.Paths.GroupBy(p => p.Namespace).ToList())
            {
                var body = new JsonObject { ["paths"] = new JsonArray([.. group.Select(p => (JsonNode)p.ReadPath)]) }.ToJsonString();
                var answer = await _vault.SendRawAsync(HttpMethod.Post, "sys/capabilities-self", record.Token, body, NamespaceHeader(group.Key), cancellationToken).ConfigureAwait(false);
                if (answer.Status == 200 && ParseCapabilities(answer.Body) is { } capabilities)
                {
                    foreach (var path in group)
                    {
                        if (!capabilities.TryGetValue(path.ReadPath, out var caps) || !caps.Any(c => c is "read" or "root"))
                        {
                            record.Remove(path);
                            Shared?.GrantRevoked(record.Token, path);
                            Log.GrantRevoked(_logger, record.Accessor ?? "unknown", path.Namespace, path.ReadPath, "capabilities-self no longer lists read");
                            _metrics.StaticCapabilityCheck("revoked");
                        }
                        else
                        {
                            kept.Add(path);
                            _metrics.StaticCapabilityCheck("kept");
                        }
                    }
                }
                else if (answer.IsUnavailable)
                {
                    _metrics.StaticCapabilityCheck("unavailable");
                    if (!Options.Optimistic)
                    {
                        Grants.Drop(record.Token);
                        kept.Clear();
                        Log.TokenDropped(_logger, "Vault could not be asked for its capabilities (pessimistic refresh)", 1);
                        break;
                    }
                }
                else
                {
                    Grants.Drop(record.Token);
                    Shared?.TokenDropped(record.Token);
                    kept.Clear();
                    _metrics.StaticCapabilityCheck("invalid");
                    Log.TokenDropped(_logger, $"Vault refused the token ({answer.Status.ToString(CultureInfo.InvariantCulture)})", 1);
                    break;
                }
            }

            // What Vault confirmed now, the fleet may take for another interval.
            Shared?.PublishGrants(record.Token, kept, record.Accessor, record.ExpiresAt, Options.CapabilityRefresh);
        }
    }

    /// <summary>
    /// Learns a new token's accessor and expiry: from auto-auth for the auto-auth token, from the lease cache when it
    /// manages the token, otherwise with one <c>auth/token/lookup-self</c> (once per token). A token with limited uses
    /// loses its grant at once: every background check would spend one of its uses.
    /// </summary>
    private async Task DescribeAsync(string token, CancellationToken cancellationToken)
    {
        if (_tokens?.Current is { } autoAuth && autoAuth.Token == token)
        {
            Grants.Describe(token, autoAuth.Accessor, null);
            return;
        }

        if (Index.GetByToken(token) is { } cached)
        {
            Grants.Describe(token, cached.TokenAccessor, null);
            return;
        }

        var answer = await _vault.SendRawAsync(HttpMethod.Get, "auth/token/lookup-self", token, null, null, cancellationToken).ConfigureAwait(false);
        if (answer.IsUnavailable)
        {
            // Known later: the capability refresh asks Vault about this token anyway.
            return;
        }

        if (answer.Status != 200 || ParseLookup(answer.Body) is not { } lookup)
        {
            Grants.Drop(token);
            return;
        }

        if (lookup.LimitedUses)
        {
            Grants.Drop(token);
            Log.TokenDropped(_logger, "the token has limited uses", 1);
            return;
        }

        Grants.Describe(token, lookup.Accessor, lookup.ExpiresAt);
    }

    /// <summary>What <c>lookup-self</c> says: accessor, expiry (null: none) and whether uses are limited.</summary>
    internal static (string? Accessor, DateTimeOffset? ExpiresAt, bool LimitedUses)? ParseLookup(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var limited = data.TryGetProperty("num_uses", out var uses) && uses.TryGetInt64(out var n) && n > 0;
            var accessor = data.TryGetProperty("accessor", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            DateTimeOffset? expires = data.TryGetProperty("expire_time", out var e) && e.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
            return (accessor, expires, limited);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The path → capabilities map of a <c>sys/capabilities-self</c> answer (from <c>data</c>, else the top level).</summary>
    internal static Dictionary<string, string[]>? ParseCapabilities(byte[] body)
    {
        try
        {
            var root = JsonNode.Parse(body) as JsonObject;
            var source = root?["data"] as JsonObject ?? root;
            if (source is null)
            {
                return null;
            }

            var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var (path, value) in source)
            {
                if (value is JsonArray caps)
                {
                    result[path] = [.. caps.Select(c => c?.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : "")];
                }
            }

            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What a KV v2 metadata answer says now, or null when it is not that shape.</summary>
    internal static SecretMetadata? ParseMetadata(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("current_version", out var cv) || !cv.TryGetInt32(out var current)
                || !data.TryGetProperty("versions", out var versions) || versions.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var byVersion = new Dictionary<int, (string DeletionTime, bool Destroyed)>();
            foreach (var version in versions.EnumerateObject())
            {
                if (int.TryParse(version.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && version.Value.ValueKind == JsonValueKind.Object)
                {
                    byVersion[n] = (
                        version.Value.TryGetProperty("deletion_time", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString()! : "",
                        version.Value.TryGetProperty("destroyed", out var d) && d.ValueKind == JsonValueKind.True);
                }
            }

            var custom = data.TryGetProperty("custom_metadata", out var cm) && cm.ValueKind == JsonValueKind.Object ? cm.GetRawText() : null;
            return new SecretMetadata(current, byVersion, custom);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A KV v2 secret's metadata: the current version, each version's deletion state, and its custom metadata.</summary>
    internal sealed record SecretMetadata(int CurrentVersion, Dictionary<int, (string DeletionTime, bool Destroyed)> Versions, string? CustomMetadata)
    {
        /// <summary>True when the stored read is still what Vault would answer: same version, same deletion state, same custom metadata.</summary>
        public bool Matches(StaticSecretInfo stored)
        {
            var wanted = stored.PinnedVersion ?? CurrentVersion;
            return stored.Version == wanted
                && Versions.TryGetValue(wanted, out var state)
                && state.DeletionTime == stored.DeletionTime
                && state.Destroyed == stored.Destroyed
                && SameJson(CustomMetadata, stored.CustomMetadata);
        }

        private static bool SameJson(string? a, string? b)
        {
            if (a is null || b is null)
            {
                return (a ?? "{}") == (b ?? "{}") || JsonNode.DeepEquals(JsonNode.Parse(a ?? "{}"), JsonNode.Parse(b ?? "{}"));
            }

            return a == b || JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(b));
        }
    }

}
