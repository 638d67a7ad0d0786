using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache.Persistence;

/// <summary>
/// The persistent cache on disk: one append-only file, <c>&lt;path&gt;/gatehouse-cache.db</c>, mode 0600.
/// <code>
/// header  "GHCACHE1" | version (1 byte, 1) | key kind (1 byte) | salt (32) | nonce (12) | tag (16)      = 70 bytes
/// record  "GHR" 0x1E | payload length (u32 LE) | CRC-32 of payload (u32 LE) | payload
/// payload op (1 byte: 1 put, 2 delete) | entry id (32 bytes) | put only: nonce (12) | tag (16) | ciphertext
/// </code>
/// The data key is HKDF-SHA256 over the configured key (or the service-account token) with the header's salt
/// (<see cref="StoreKey"/>). The header's tag seals an empty plaintext with the header bytes as AAD, so a wrong key
/// is known before any record is read. Each put is the entry (<see cref="PersistedEntry"/>) sealed with AES-256-GCM,
/// a random nonce and the entry id as AAD. The last record for an id wins; a delete removes it.
/// Appends are flushed to the operating system at once (a killed process loses nothing) and to the disk on
/// compaction and close. A torn tail or a damaged record fails its length/CRC check and is skipped; reading resumes at
/// the next record marker, so one bad write never costs the whole store. The file is rewritten (temp file + rename)
/// with only the live entries at start and whenever dead records make up more than half of a file over 4 MiB; a
/// rewrite that fails deletes its temp file, and after start the store goes on with the file it had.
/// </summary>
internal sealed partial class CacheStoreFile : ICacheStore
{
    public const string FileName = "gatehouse-cache.db";
    public const int HeaderSize = 8 + 1 + 1 + SaltSize + NonceSize + TagSize;
    public const int RecordPrefixSize = 12;
    private const byte FormatVersion = 1;
    private const int SaltSize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int IdSize = 32;
    private const byte OpPut = 1;
    private const byte OpDelete = 2;
    private const long CompactAbove = 4 * 1024 * 1024;
    private static readonly byte[] Magic = "GHCACHE1"u8.ToArray();
    private static readonly byte[] RecordMarker = [(byte)'G', (byte)'H', (byte)'R', 0x1E];

    private readonly string _path;
    private readonly StoreKey _key;
    private readonly Func<IEnumerable<CacheEntry>> _live;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<CacheKey, long> _liveBytes;
    private FileStream _stream;
    private AesGcm _aes;
    private long _liveTotal;
    private long _compactFailedAt;
    private bool _disposed;

    private CacheStoreFile(string path, StoreKey key, Func<IEnumerable<CacheEntry>> live, ILogger logger)
    {
        _path = path;
        _key = key;
        _live = live;
        _logger = logger;
        var fresh = WriteTemp(live());
        Install(fresh);
        (_aes, _liveBytes, _liveTotal) = (fresh.Aes, fresh.Live, fresh.Total);
        try
        {
            _stream = OpenAppend(path);
        }
        catch
        {
            _aes.Dispose();
            throw;
        }
    }

    public string Path => _path;

    /// <summary>Bytes written to the current file (tests, compaction).</summary>
    public long Length
    {
        get
        {
            lock (_lock)
            {
                return _stream.Length;
            }
        }
    }

    /// <summary>Writes a fresh, compacted store holding <paramref name="live"/>'s entries, replacing any file there.</summary>
    public static CacheStoreFile Create(string path, StoreKey key, Func<IEnumerable<CacheEntry>> live, ILogger logger) => new(path, key, live, logger);

    public void Save(CacheEntry entry)
    {
        lock (_lock)
        {
            // An entry evicted before its write reached us is followed by its delete; nothing to write.
            if (_disposed || entry.Evicted)
            {
                return;
            }

            var size = Append(OpPut, entry.Id, PersistedEntry.Serialize(entry));
            _liveTotal += size - _liveBytes.GetValueOrDefault(entry.Id);
            _liveBytes[entry.Id] = size;
            CompactIfLarge();
        }
    }

    public void Delete(CacheEntry entry)
    {
        lock (_lock)
        {
            if (_disposed || !_liveBytes.Remove(entry.Id, out var size))
            {
                return;
            }

            _liveTotal -= size;
            Append(OpDelete, entry.Id, null);
            CompactIfLarge();
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (!TryReplace([]))
            {
                // The old file stays: a delete record per entry empties it all the same.
                foreach (var id in _liveBytes.Keys.ToList())
                {
                    Append(OpDelete, id, null);
                }

                _liveBytes.Clear();
                _liveTotal = 0;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                _stream.Flush(flushToDisk: true);
            }
            catch (IOException exception)
            {
                Log.WriteFailed(_logger, _path, exception);
            }

            _stream.Dispose();
            _aes.Dispose();
        }
    }

    /// <summary>
    /// Reads a store. Throws <see cref="CachePersistException"/> when the file is not a store or the key does not open it
    /// (wrong key, rotated service-account token); damaged records are skipped and counted, never thrown.
    /// </summary>
    public static StoreContents Read(string path, StoreKey key, ILogger logger)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new CachePersistException($"{path} is not a Gatehouse cache store (bad header)");
        }

        if (bytes[8] != FormatVersion)
        {
            throw new CachePersistException($"{path} has store format version {bytes[8]}; this Gatehouse reads version {FormatVersion}");
        }

        if (bytes[9] != (byte)key.Kind)
        {
            throw new CachePersistException($"{path} was written with a {(StoreKeyKind)bytes[9]} key, but the configuration gives a {key.Kind} key");
        }

        var salt = bytes.AsSpan(10, SaltSize);
        var aes = new AesGcm(key.DeriveDataKey(salt), TagSize);
        using (aes)
        {
            try
            {
                aes.Decrypt(bytes.AsSpan(10 + SaltSize, NonceSize), [], bytes.AsSpan(10 + SaltSize + NonceSize, TagSize), [], bytes.AsSpan(0, 10 + SaltSize));
            }
            catch (AuthenticationTagMismatchException exception)
            {
                throw new CachePersistException($"{path} cannot be decrypted with the key from {key.Source} " +
                    (key.Kind == StoreKeyKind.ServiceAccountToken ? "(the service-account token has rotated since it was written)" : "(wrong key)"),
                    alwaysFatal: false, exception);
            }

            return ReadRecords(bytes, aes, path, logger);
        }
    }

    private static StoreContents ReadRecords(byte[] bytes, AesGcm aes, string path, ILogger logger)
    {
        // Step map: 1. find a record marker; 2. check length and CRC (else: damaged, resume at the next marker);
        // 3. put → decrypt with the id as AAD and decode (else: drop that id); delete → forget the id.
        var entries = new Dictionary<CacheKey, (long Sequence, CacheEntry Entry)>();
        var damaged = 0;
        var unreadable = 0;
        long sequence = 0;
        var position = HeaderSize;
        while (position < bytes.Length)
        {
            var span = bytes.AsSpan(position);
            if (span.Length < RecordPrefixSize + 1 + IdSize || !span.StartsWith(RecordMarker))
            {
                damaged++;
                position = NextMarker(bytes, position + 1);
                continue;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
            if (length < 1 + IdSize || length > span.Length - RecordPrefixSize
                || Crc32.HashToUInt32(span.Slice(RecordPrefixSize, (int)length)) != crc)
            {
                damaged++;
                position = NextMarker(bytes, position + 1);
                continue;
            }

            var payload = span.Slice(RecordPrefixSize, (int)length);
            position += RecordPrefixSize + (int)length;
            var id = ReadId(payload.Slice(1, IdSize));
            switch (payload[0])
            {
                case OpDelete:
                    entries.Remove(id);
                    break;
                case OpPut when payload.Length >= 1 + IdSize + NonceSize + TagSize:
                {
                    var sealedPart = payload[(1 + IdSize)..];
                    var plaintext = new byte[sealedPart.Length - NonceSize - TagSize];
                    try
                    {
                        aes.Decrypt(sealedPart[..NonceSize], sealedPart[(NonceSize + TagSize)..], sealedPart.Slice(NonceSize, TagSize), plaintext, payload.Slice(1, IdSize));
                        var entry = PersistedEntry.Deserialize(id, plaintext);
                        var first = entries.TryGetValue(id, out var previous) ? previous.Sequence : sequence++;
                        entries[id] = (first, entry);
                    }
                    catch (Exception exception) when (exception is AuthenticationTagMismatchException or InvalidDataException)
                    {
                        unreadable++;
                        entries.Remove(id);
                        Log.RecordUnreadable(logger, path, id.ToString()[..16], exception.Message);
                    }

                    break;
                }

                default:
                    damaged++;
                    break;
            }
        }

        if (damaged > 0)
        {
            Log.RecordsDamaged(logger, path, damaged);
        }

        return new StoreContents([.. entries.Values.OrderBy(e => e.Sequence).Select(e => e.Entry)], damaged + unreadable);
    }

    private static int NextMarker(byte[] bytes, int from)
    {
        if (from >= bytes.Length)
        {
            return bytes.Length;
        }

        var found = bytes.AsSpan(from).IndexOf(RecordMarker);
        return found < 0 ? bytes.Length : from + found;
    }

    private static CacheKey ReadId(ReadOnlySpan<byte> id) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(id),
        BinaryPrimitives.ReadUInt64LittleEndian(id[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(id[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(id[24..]));

    private static void WriteId(Span<byte> destination, CacheKey id)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, id.A);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], id.B);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], id.C);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], id.D);
    }

    /// <summary>Builds one framed record.</summary>
    private static byte[] Frame(AesGcm aes, byte op, CacheKey id, byte[]? plaintext)
    {
        var payloadLength = 1 + IdSize + (plaintext is null ? 0 : NonceSize + TagSize + plaintext.Length);
        var record = new byte[RecordPrefixSize + payloadLength];
        var payload = record.AsSpan(RecordPrefixSize);
        payload[0] = op;
        WriteId(payload.Slice(1, IdSize), id);
        if (plaintext is not null)
        {
            var sealedPart = payload[(1 + IdSize)..];
            RandomNumberGenerator.Fill(sealedPart[..NonceSize]);
            aes.Encrypt(sealedPart[..NonceSize], plaintext, sealedPart[(NonceSize + TagSize)..], sealedPart.Slice(NonceSize, TagSize), payload.Slice(1, IdSize));
        }

        RecordMarker.CopyTo(record, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), Crc32.HashToUInt32(payload));
        return record;
    }

    private long Append(byte op, CacheKey id, byte[]? plaintext)
    {
        var record = Frame(_aes, op, id, plaintext);
        try
        {
            _stream.Write(record);
            _stream.Flush(flushToDisk: false);
        }
        catch (IOException exception)
        {
            // A full disk must not break the proxy: the entry stays cached in memory, only its persistence is lost.
            Log.WriteFailed(_logger, _path, exception);
        }

        return record.Length;
    }

    private void CompactIfLarge()
    {
        var length = _stream.Length;
        if (length > CompactAbove && length > 2 * (_liveTotal + HeaderSize) && length > _compactFailedAt + CompactAbove)
        {
            if (TryReplace(_live()))
            {
                _compactFailedAt = 0;
                Log.Compacted(_logger, _path, length, _stream.Length);
            }
            else
            {
                // Appends go on into the old file; the next attempt waits until it has grown by another CompactAbove.
                _compactFailedAt = length;
            }
        }
    }

    /// <summary>
    /// Rewrites the store (compaction, clear). When that fails (disk full, the directory gone read-only) the failure
    /// is logged, nothing is left behind and appends go on into the current file, so the request that stored an entry
    /// never sees the error. When even the current file cannot be reopened, persistence stops for this process.
    /// </summary>
    private bool TryReplace(IEnumerable<CacheEntry> entries)
    {
        TempStore fresh;
        try
        {
            fresh = WriteTemp(entries);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.RewriteFailed(_logger, _path, exception);
            return false;
        }

        // Closed before the rename: Windows cannot rename over an open file.
        _stream.Dispose();
        try
        {
            Install(fresh);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.RewriteFailed(_logger, _path, exception);
            Reopen();
            return false;
        }

        // The fresh file is in place: from here on only its key writes to it.
        _aes.Dispose();
        _aes = fresh.Aes;
        _liveBytes.Clear();
        foreach (var (id, size) in fresh.Live)
        {
            _liveBytes[id] = size;
        }

        _liveTotal = fresh.Total;
        Reopen();
        return !_disposed;
    }

    private void Reopen()
    {
        try
        {
            _stream = OpenAppend(_path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, _path, exception);
            _disposed = true;
            _aes.Dispose();
        }
    }

    private static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read });

    private string TempPath => _path + ".tmp";

    /// <summary>
    /// Writes a new store (fresh salt) holding <paramref name="entries"/> to <c>gatehouse-cache.db.tmp</c> and syncs
    /// it. On any failure the temp file is deleted before the exception goes on.
    /// </summary>
    private TempStore WriteTemp(IEnumerable<CacheEntry> entries)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var aes = new AesGcm(_key.DeriveDataKey(salt), TagSize);
        var created = false;
        try
        {
            var header = new byte[HeaderSize];
            Magic.CopyTo(header, 0);
            header[8] = FormatVersion;
            header[9] = (byte)_key.Kind;
            salt.CopyTo(header, 10);
            RandomNumberGenerator.Fill(header.AsSpan(10 + SaltSize, NonceSize));
            aes.Encrypt(header.AsSpan(10 + SaltSize, NonceSize), [], [], header.AsSpan(10 + SaltSize + NonceSize, TagSize), header.AsSpan(0, 10 + SaltSize));

            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var live = new Dictionary<CacheKey, long>();
            long total = 0;
            using (var stream = new FileStream(TempPath, options))
            {
                created = true;
                stream.Write(header);
                foreach (var entry in entries)
                {
                    if (entry.Evicted)
                    {
                        continue;
                    }

                    var record = Frame(aes, OpPut, entry.Id, PersistedEntry.Serialize(entry));
                    stream.Write(record);
                    live[entry.Id] = record.Length;
                    total += record.Length;
                }

                stream.Flush(flushToDisk: true);
            }

            return new TempStore(aes, live, total);
        }
        catch
        {
            aes.Dispose();
            if (created)
            {
                DeleteTemp();
            }

            throw;
        }
    }

    /// <summary>Renames the temp file over the store. On failure the temp file is deleted and the exception goes on.</summary>
    private void Install(TempStore fresh)
    {
        try
        {
            File.Move(TempPath, _path, overwrite: true);
        }
        catch
        {
            fresh.Aes.Dispose();
            DeleteTemp();
            throw;
        }
    }

    private void DeleteTemp()
    {
        try
        {
            File.Delete(TempPath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.TempNotDeleted(_logger, TempPath, exception.Message);
        }
    }

    /// <summary>A store written to the temp file: its data key and the size of each entry's record in it.</summary>
    private sealed record TempStore(AesGcm Aes, Dictionary<CacheKey, long> Live, long Total);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.CacheStoreFileRecordUnreadable, LogLevel.Warning, "Persistent cache {Path}: a record for entry {Id}… could not be decrypted or decoded ({Error}); skipping it")]
        public static partial void RecordUnreadable(ILogger logger, string path, string id, string error);

        [LoggerMessage(LogEvents.CacheStoreFileRecordsDamaged, LogLevel.Warning, "Persistent cache {Path}: {Count} damaged record(s) (torn write or corruption) skipped")]
        public static partial void RecordsDamaged(ILogger logger, string path, int count);

        [LoggerMessage(LogEvents.CacheStoreFileWriteFailed, LogLevel.Error, "Persistent cache {Path}: write failed; cached entries stay in memory but may not survive a restart")]
        public static partial void WriteFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(LogEvents.CacheStoreFileCompacted, LogLevel.Debug, "Persistent cache {Path} compacted from {Before} to {After} bytes")]
        public static partial void Compacted(ILogger logger, string path, long before, long after);

        [LoggerMessage(LogEvents.CacheStoreFileRewriteFailed, LogLevel.Error, "Persistent cache {Path}: rewriting the store failed; writes go on into the current file")]
        public static partial void RewriteFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(LogEvents.CacheStoreFileTempNotDeleted, LogLevel.Warning, "Persistent cache: the temporary file {Path} could not be deleted ({Error})")]
        public static partial void TempNotDeleted(ILogger logger, string path, string error);
    }
}

/// <summary>What a store held: live entries in first-written order, and how many records were damaged or unreadable.</summary>
internal sealed record StoreContents(IReadOnlyList<CacheEntry> Entries, int Problems);
