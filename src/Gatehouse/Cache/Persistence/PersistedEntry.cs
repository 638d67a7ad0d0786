using System.Text;

namespace Gatehouse.Cache.Persistence;

/// <summary>
/// The plaintext of one stored record: everything a restored <see cref="CacheEntry"/> needs to serve hits and resume
/// renewal (kind, index links, the stored response, when it was fetched and last renewed). A small versioned binary
/// encoding, written by <see cref="BinaryWriter"/>; it is only ever read back after AES-GCM has authenticated it.
/// </summary>
internal static class PersistedEntry
{
    private const byte Version = 1;

    public static byte[] Serialize(CacheEntry entry)
    {
        using var stream = new MemoryStream(256 + (entry.Response?.Body.Length ?? 0));
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            w.Write((byte)entry.Kind);
            w.Write(entry.Namespace);
            w.Write(entry.RequestPath);
            w.Write(entry.RequestMethod);
            WriteOptional(w, entry.RequestToken);
            WriteOptional(w, entry.Token);
            WriteOptional(w, entry.TokenAccessor);
            WriteOptional(w, entry.Lease);
            WriteOptional(w, entry.LeaseToken);
            WriteOptional(w, entry.TokenParent);
            w.Write(entry.FetchedAt.UtcTicks);
            w.Write(entry.OriginalTtlSeconds);
            var lifetime = entry.Lifetime;
            w.Write(lifetime.Since.UtcTicks);
            w.Write(lifetime.TtlSeconds);
            if (entry.Response is not { } response)
            {
                w.Write(false);
            }
            else
            {
                w.Write(true);
                w.Write(response.StatusCode);
                w.Write(response.AuthTtl);
                w.Write(response.Headers.Length);
                foreach (var (name, values) in response.Headers)
                {
                    w.Write(name);
                    w.Write(values.Length);
                    foreach (var value in values)
                    {
                        w.Write(value);
                    }
                }

                w.Write(response.Body.Length);
                w.Write(response.Body);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Reads an entry back. Throws <see cref="InvalidDataException"/> for an unknown version or a bad encoding.</summary>
    public static CacheEntry Deserialize(CacheKey id, ReadOnlySpan<byte> plaintext)
    {
        using var stream = new MemoryStream(plaintext.ToArray(), writable: false);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            var version = r.ReadByte();
            if (version != Version)
            {
                throw new InvalidDataException($"unknown entry version {version}");
            }

            var kind = (CacheEntryKind)r.ReadByte();
            if (!Enum.IsDefined(kind))
            {
                throw new InvalidDataException($"unknown entry kind {(byte)kind}");
            }

            var ns = r.ReadString();
            var requestPath = r.ReadString();
            var requestMethod = r.ReadString();
            var requestToken = ReadOptional(r);
            var token = ReadOptional(r);
            var accessor = ReadOptional(r);
            var lease = ReadOptional(r);
            var leaseToken = ReadOptional(r);
            var tokenParent = ReadOptional(r);
            var fetchedAt = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            var originalTtl = r.ReadInt64();
            var since = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            var ttl = r.ReadInt64();
            CachedResponse? response = null;
            if (r.ReadBoolean())
            {
                var status = r.ReadInt32();
                var authTtl = r.ReadBoolean();
                var count = r.ReadInt32();
                if (count is < 0 or > 10_000)
                {
                    throw new InvalidDataException("bad header count");
                }

                var headers = new KeyValuePair<string, string[]>[count];
                for (var i = 0; i < count; i++)
                {
                    var name = r.ReadString();
                    var valueCount = r.ReadInt32();
                    if (valueCount is < 0 or > 10_000)
                    {
                        throw new InvalidDataException("bad header value count");
                    }

                    var values = new string[valueCount];
                    for (var j = 0; j < valueCount; j++)
                    {
                        values[j] = r.ReadString();
                    }

                    headers[i] = new(name, values);
                }

                var bodyLength = r.ReadInt32();
                if (bodyLength < 0 || bodyLength > stream.Length - stream.Position)
                {
                    throw new InvalidDataException("bad body length");
                }

                response = new CachedResponse(status, headers, r.ReadBytes(bodyLength), authTtl);
            }

            return new CacheEntry
            {
                Id = id,
                Kind = kind,
                Response = response,
                Namespace = ns,
                RequestPath = requestPath,
                RequestMethod = requestMethod,
                RequestToken = requestToken,
                Token = token,
                TokenAccessor = accessor,
                Lease = lease,
                LeaseToken = leaseToken,
                TokenParent = tokenParent,
                FetchedAt = fetchedAt,
                OriginalTtlSeconds = originalTtl,
                Lifetime = new CacheLifetime(since, ttl),
            };
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("truncated entry", exception);
        }
        catch (ArgumentOutOfRangeException exception)
        {
            throw new InvalidDataException("bad timestamp", exception);
        }
        catch (FormatException exception)
        {
            throw new InvalidDataException("bad string length", exception);
        }
    }

    private static void WriteOptional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
