using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache.Persistence;

/// <summary>
/// Opens the persistent cache and restores it into the <see cref="LeaseCache"/> when the host starts, before any
/// other hosted service and before the listeners serve. Vault is not contacted: a restore works with Vault down
/// (hashicorp/vault #28305), and the restored entries' renewals simply back off until it is back.
/// </summary>
/// <remarks>
/// Step map of <see cref="Restore"/>:
/// 1. Load the key material. A bad key_file/key_env_var is always fatal; other key problems (an unreadable
///    service-account token) are fatal with exit_on_err, otherwise logged and Gatehouse runs without persistence.
/// 2. No store yet → create one; persistence stays on for the life of the process. A directory where the store file
///    belongs cannot be read or replaced: fatal with exit_on_err, otherwise logged and Gatehouse runs without
///    persistence. Whatever fails, no temp file is left behind (<see cref="CacheStoreFile"/> deletes its own).
/// 3. A store that does not open (wrong key, rotated service-account token, not a store): fatal with exit_on_err;
///    otherwise logged, moved aside to <c>…db.unreadable</c>, and Gatehouse starts empty with a fresh store.
/// 4. Restore: expired entries are skipped; the auto-auth token and tokens first, each child after its parent, leases
///    after their token; an entry whose parent is missing is skipped. Every restored entry is scheduled for renewal.
///    Damaged records and missing parents are restore errors: logged, or fatal with exit_on_err.
/// 5. keep_after_import = false → delete the store and run without persistence (Vault's behaviour); true → rewrite it
///    compacted and keep writing to it.
/// </remarks>
internal sealed partial class CachePersistence : IHostedService
{
    private readonly LeaseCache _cache;
    private readonly PersistConfig _persist;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TokenStore? _tokens;
    private readonly Func<string, string?>? _environment;

    public CachePersistence(LeaseCache cache, PersistConfig persist, TimeProvider time, ILogger<CachePersistence> logger, TokenStore? tokens = null, Func<string, string?>? environment = null)
    {
        _cache = cache;
        _persist = persist;
        _time = time;
        _logger = logger;
        _tokens = tokens;
        _environment = environment;
    }

    /// <summary>The store file's path.</summary>
    public string FilePath => System.IO.Path.Combine(_persist.Path ?? ".", CacheStoreFile.FileName);

    /// <summary>What the last restore did (tests, logs).</summary>
    public RestoreSummary? Summary { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Restore();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Restore()
    {
        // 1. Key material.
        StoreKey key;
        try
        {
            key = StoreKey.Load(_persist, _environment);
        }
        catch (CachePersistException exception) when (!exception.AlwaysFatal && !_persist.ExitOnError)
        {
            Log.Disabled(_logger, exception.Message);
            return;
        }
        catch (CachePersistException exception) when (!exception.AlwaysFatal)
        {
            throw Fatal(exception.Message, exception);
        }

        var path = FilePath;
        try
        {
            Directory.CreateDirectory(_persist.Path!);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Fail($"cannot create the persistent cache directory {_persist.Path}: {exception.Message}", exception);
            return;
        }

        // Nothing can read or replace a directory where the store file belongs; it is left as it is.
        if (Directory.Exists(path))
        {
            Fail($"cannot use {path} as the persistent cache: it is a directory, not a store file; move it away or set another path", null);
            return;
        }

        // 2–3. Read what is there.
        StoreContents? contents = null;
        if (File.Exists(path))
        {
            try
            {
                contents = CacheStoreFile.Read(path, key, _logger);
            }
            catch (Exception exception) when (exception is CachePersistException or IOException or UnauthorizedAccessException)
            {
                if (_persist.ExitOnError)
                {
                    throw Fatal($"cannot read the persistent cache: {exception.Message}", exception);
                }

                Log.Unreadable(_logger, path, exception.Message);
                TryMoveAside(path);
            }
        }

        // 4. Restore.
        var summary = contents is null ? new RestoreSummary(0, 0, 0, 0) : RestoreEntries(contents);
        Summary = summary;
        if (contents is not null)
        {
            Log.Restored(_logger, path, summary.Restored, summary.Expired, summary.Errors);
            if (summary.Errors > 0 && _persist.ExitOnError)
            {
                throw Fatal($"{summary.Errors} entries of the persistent cache {path} could not be restored (see the log)", null);
            }
        }

        // 5. Keep or drop the store.
        if (contents is not null && !_persist.KeepAfterImport)
        {
            try
            {
                File.Delete(path);
                Log.DeletedAfterImport(_logger, path);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                Fail($"cannot delete the persistent cache {path} after import: {exception.Message}", exception);
            }

            return;
        }

        try
        {
            _cache.Store = CacheStoreFile.Create(path, key, _cache.Index.Snapshot, _logger);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Fail($"cannot write the persistent cache {path}: {exception.Message}", exception);
        }
    }

    private RestoreSummary RestoreEntries(StoreContents contents)
    {
        var now = _time.GetUtcNow();
        var expired = 0;
        var errors = contents.Problems;
        var pending = new List<CacheEntry>();
        foreach (var entry in contents.Entries)
        {
            // Elapsed time since the last renewal beyond the TTL: Vault has forgotten it too. An auto-auth token
            // without a TTL never expires.
            var noTtl = entry.Kind == CacheEntryKind.AutoAuthToken && entry.Lifetime.TtlSeconds == 0;
            if (!noTtl && entry.Lifetime.RemainingSeconds(now) <= 0)
            {
                expired++;
                continue;
            }

            pending.Add(entry);
        }

        // Tokens before leases, each child after its parent: add whatever has its parent in place, until nothing moves.
        pending.Sort(static (a, b) => Rank(a).CompareTo(Rank(b)));
        var restored = 0;
        AutoAuthToken? preload = null;
        bool progress;
        do
        {
            progress = false;
            for (var i = 0; i < pending.Count; i++)
            {
                var entry = pending[i];
                if ((entry.TokenParent is not null && !_cache.Index.IsManagedToken(entry.TokenParent))
                    || (entry.LeaseToken is not null && !_cache.Index.IsManagedToken(entry.LeaseToken)))
                {
                    continue;
                }

                pending.RemoveAt(i--);
                progress = true;
                if (_cache.Add(entry, persist: false))
                {
                    restored++;
                    if (entry.Kind == CacheEntryKind.AutoAuthToken && (preload is null || entry.FetchedAt > preload.ObtainedAt))
                    {
                        var ttl = entry.Lifetime.TtlSeconds == 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(entry.Lifetime.RemainingSeconds(now));
                        preload = new AutoAuthToken(entry.Token!, entry.TokenAccessor, now, ttl, Renewable: true);
                    }
                }
            }
        }
        while (progress && pending.Count > 0);

        foreach (var orphan in pending)
        {
            errors++;
            Log.ParentMissing(_logger, orphan.ToString());
        }

        if (preload is not null)
        {
            _tokens?.Preload(preload);
        }

        return new RestoreSummary(restored, expired, errors, contents.Entries.Count);
    }

    private static int Rank(CacheEntry entry) => entry.Kind switch
    {
        CacheEntryKind.AutoAuthToken => 0,
        CacheEntryKind.Token => 1,
        _ => 2,
    };

    /// <summary>A problem after the key loaded: fatal with exit_on_err, otherwise logged (persistence is then off).</summary>
    private void Fail(string message, Exception? exception)
    {
        if (_persist.ExitOnError)
        {
            throw Fatal(message, exception);
        }

        Log.Disabled(_logger, message);
    }

    private static CachePersistException Fatal(string message, Exception? inner) =>
        new($"{message}; exiting with error as exit_on_err is set to true", alwaysFatal: true, inner);

    private void TryMoveAside(string path)
    {
        try
        {
            File.Move(path, path + ".unreadable", overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.Disabled(_logger, $"cannot move {path} aside: {exception.Message}");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.CachePersistenceDisabled, LogLevel.Error, "Persistent cache disabled: {Reason}")]
        public static partial void Disabled(ILogger logger, string reason);

        [LoggerMessage(LogEvents.CachePersistenceUnreadable, LogLevel.Error, "Persistent cache {Path} cannot be read ({Reason}); starting with an empty cache (the old file is kept as {Path}.unreadable)")]
        public static partial void Unreadable(ILogger logger, string path, string reason);

        [LoggerMessage(LogEvents.CachePersistenceRestored, LogLevel.Information, "Persistent cache {Path}: restored {Restored} entries, skipped {Expired} expired, {Errors} could not be restored")]
        public static partial void Restored(ILogger logger, string path, int restored, int expired, int errors);

        [LoggerMessage(LogEvents.CachePersistenceParentMissing, LogLevel.Warning, "Persistent cache: could not find the parent token of {Entry}; skipping it")]
        public static partial void ParentMissing(ILogger logger, string entry);

        [LoggerMessage(LogEvents.CachePersistenceDeletedAfterImport, LogLevel.Information, "Persistent cache {Path} imported and deleted (keep_after_import = false); running without persistence")]
        public static partial void DeletedAfterImport(ILogger logger, string path);
    }
}

/// <summary>The outcome of a restore: entries restored, skipped as expired, failed (damaged, undecryptable, orphaned), read.</summary>
internal sealed record RestoreSummary(int Restored, int Expired, int Errors, int Read);
