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
/// with only the live entries at start and whenever dead records make up more than half of a file over 4 MiB.
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
    private readonly Dictionary<CacheKey, long> _liveBytes = [];
    private FileStream _stream;
    private AesGcm _aes;
    private long _liveTotal;
    private bool _disposed;

    private CacheStoreFile(string path, StoreKey key, Func<IEnumerable<CacheEntry>> live, ILogger logger)
    {
        _path = path;
        _key = key;
        _live = live;
        _logger = logger;
        (_stream, _aes) = Rewrite(live());
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

            _stream.Dispose();
            _aes.Dispose();
            (_stream, _aes) = Rewrite([]);
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
        if (length > CompactAbove && length > 2 * (_liveTotal + HeaderSize))
        {
            _stream.Dispose();
            _aes.Dispose();
            (_stream, _aes) = Rewrite(_live());
            Log.Compacted(_logger, _path, length, _stream.Length);
        }
    }

    /// <summary>Writes a new file (fresh salt) with <paramref name="entries"/> to a temp file, syncs it and renames it over the store.</summary>
    private (FileStream, AesGcm) Rewrite(IEnumerable<CacheEntry> entries)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var aes = new AesGcm(_key.DeriveDataKey(salt), TagSize);
        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        header[8] = FormatVersion;
        header[9] = (byte)_key.Kind;
        salt.CopyTo(header, 10);
        RandomNumberGenerator.Fill(header.AsSpan(10 + SaltSize, NonceSize));
        aes.Encrypt(header.AsSpan(10 + SaltSize, NonceSize), [], [], header.AsSpan(10 + SaltSize + NonceSize, TagSize), header.AsSpan(0, 10 + SaltSize));

        var temp = _path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        _liveBytes.Clear();
        _liveTotal = 0;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(header);
            foreach (var entry in entries)
            {
                if (entry.Evicted)
                {
                    continue;
                }

                var record = Frame(aes, OpPut, entry.Id, PersistedEntry.Serialize(entry));
                stream.Write(record);
                _liveBytes[entry.Id] = record.Length;
                _liveTotal += record.Length;
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, _path, overwrite: true);
        var append = new FileStream(_path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read });
        return (append, aes);
    }

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
    }
}

/// <summary>What a store held: live entries in first-written order, and how many records were damaged or unreadable.</summary>
internal sealed record StoreContents(IReadOnlyList<CacheEntry> Entries, int Problems);
