using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Gatehouse.GoCompat;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.DevVault;

/// <summary>
/// Vault Enterprise 1.16+'s event notifications, as far as KV needs them: <c>GET /v1/sys/events/subscribe/{eventType}</c>
/// upgraded to a WebSocket, and one CloudEvents JSON text frame per KV change. On only with
/// <see cref="DevVaultOptions.EventStream"/>; see docs/devvault.md for what is taken from Vault's source and what is a guess.
/// </summary>
internal sealed partial class VaultCore
{
    private const string SubscribePrefix = "/v1/sys/events/subscribe/";

    private readonly List<EventSubscription> _subscriptions = [];

    /// <summary>One open WebSocket: what it asked for, whose token it runs on, and the frames waiting to be sent.</summary>
    private sealed class EventSubscription(string pattern, string tokenId)
    {
        public string Pattern { get; } = pattern;

        public string TokenId { get; } = tokenId;

        public Channel<byte[]> Frames { get; } = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    }

    /// <summary>Open event WebSockets (for tests).</summary>
    public int EventSubscriberCount
    {
        get
        {
            lock (_sync)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>True when DevVault serves this request as an event subscription (the option is on and the path is Vault's).</summary>
    private bool IsEventSubscribe(string path) => _options.EventStream && path.StartsWith(SubscribePrefix, StringComparison.Ordinal);

    /// <summary>Ends every open event WebSocket (the server is stopping, or a test drops the streams).</summary>
    public void CloseEventStreams()
    {
        lock (_sync)
        {
            foreach (var s in _subscriptions)
            {
                s.Frames.Writer.TryComplete();
            }
            _subscriptions.Clear();
        }
    }

    /// <summary>
    /// Vault's <c>handleEventsSubscribe</c> (http/events.go, 1.16): the token must pass the ACL check of the request
    /// itself (a GET, so <c>read</c> on <c>sys/events/subscribe/{pattern}</c>), else 403; an empty pattern is 400;
    /// <c>json</c> must parse as a Go bool. Then subscribe, accept the WebSocket, and write frames until either side ends.
    /// </summary>
    private async Task HandleEventSubscribeAsync(HttpContext ctx, string path)
    {
        var pattern = path[SubscribePrefix.Length..].Trim();
        VaultResponse? refusal = null;
        EventSubscription? subscription = null;
        lock (_sync)
        {
            if (Sealed)
            {
                refusal = VaultResponse.Error(503, "Vault is sealed");
            }
            else if (ClientToken(ctx) is not { } token || LookupToken(token) is not { IsWrapping: false } entry
                || !Allowed(new VaultRequest { HttpMethod = "GET", Path = path[4..], Http = ctx, Now = Now, Operation = "read", Acl = AclFor(entry) }, path[4..]))
            {
                // The HTTP layer's respondError: a bare "permission denied", not the logical layer's multierror text.
                refusal = VaultResponse.Error(403, "permission denied");
            }
            else if (pattern.Length == 0)
            {
                refusal = VaultResponse.BadRequest("did not specify eventType to subscribe to");
            }
            else if (ctx.Request.Query["json"].ToString() is { Length: > 0 } json && !GoFormat.TryParseBool(json, out _))
            {
                refusal = VaultResponse.BadRequest("invalid parameter for JSON: " + json);
            }
            else if (!(GoFormat.TryParseBool(ctx.Request.Query["json"].ToString(), out var wantsJson) && wantsJson))
            {
                // Vault sends protobuf binary frames without json=true; DevVault emulates only the JSON form.
                refusal = VaultResponse.BadRequest("DevVault emulates only json=true event subscriptions");
            }
            else if (!ctx.WebSockets.IsWebSocketRequest)
            {
                refusal = VaultResponse.Error(StatusCodes.Status426UpgradeRequired, "could not accept as websocket");
            }
            else
            {
                // Subscribe before accepting, as Vault does, so that nothing written after the upgrade is missed.
                subscription = new EventSubscription(pattern, entry.Id);
                _subscriptions.Add(subscription);
            }
        }

        if (refusal is not null)
        {
            await WriteAsync(ctx, refusal, null).ConfigureAwait(false);
            return;
        }

        try
        {
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            await PumpEventsAsync(socket, subscription!, ctx.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            lock (_sync)
            {
                _subscriptions.Remove(subscription!);
            }
        }
    }

    private static async Task PumpEventsAsync(WebSocket socket, EventSubscription subscription, CancellationToken aborted)
    {
        // Vault reads nothing from the client (conn.CloseRead): a close or any failure from the client ends the
        // subscription. The reader is never cancelled (cancelling a WebSocket receive aborts the connection, and a
        // close frame not yet flushed would be lost); the connection's own abort ends it.
        using var clientGone = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var reader = Task.Run(async () =>
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1024);
            try
            {
                while ((await socket.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
                {
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                await clientGone.CancelAsync().ConfigureAwait(false);
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var frame in subscription.Frames.Reader.ReadAllAsync(clientGone.Token).ConfigureAwait(false))
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, clientGone.Token).ConfigureAwait(false);
            }
            // The stream was ended on purpose (token revoked, server stopping, DropEventStreams): a normal close, as
            // Vault's handler returns, then the client's answering close frame.
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
            await reader.WaitAsync(CloseHandshakeTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or TimeoutException)
        {
        }
        finally
        {
            if (!reader.IsCompleted)
            {
                socket.Abort();
            }
            await reader.ConfigureAwait(false);
        }
    }

    /// <summary>How long DevVault waits for a client's answer to its close frame before dropping the connection.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A KV change happened: one event to every subscription whose pattern matches its type and whose token may
    /// receive it. Runs under the core lock, like the write it reports; frames are queued, never awaited.
    /// <paramref name="path"/> and <paramref name="dataPath"/> are relative to the mount, as the KV plugin sends them
    /// (vault-plugin-secrets-kv <c>kvEvent</c>); the event carries them with the mount path in front.
    /// </summary>
    private void PublishKv(Mount mount, int version, string operation, string path, string? dataPath, params (string Key, string Value)[] extra)
    {
        // Cubbyhole shares the KV v1 handler but is not the KV plugin: it sends no events.
        if (!_options.EventStream || _subscriptions.Count == 0 || mount.Type != "kv")
        {
            return;
        }
        var eventType = $"kv-v{version}/{operation}";
        var fullPath = mount.FullPath + path;
        var fullDataPath = dataPath is null ? null : mount.FullPath + dataPath;
        byte[]? frame = null;
        foreach (var s in _subscriptions.ToArray())
        {
            if (!GlobMatches(s.Pattern, eventType))
            {
                continue;
            }
            if (LookupToken(s.TokenId) is not { } token)
            {
                // Vault re-checks the subscriber's access every five minutes and ends the WebSocket when it fails;
                // DevVault ends it at the first event after the token is gone.
                s.Frames.Writer.TryComplete();
                _subscriptions.Remove(s);
                continue;
            }
            if (!MayReceive(AclFor(token), eventType, fullDataPath))
            {
                continue;
            }
            frame ??= KvEventFrame(mount, version, eventType, operation, fullPath, fullDataPath, extra);
            s.Frames.Writer.TryWrite(frame);
        }
    }

    /// <summary>
    /// Vault's per-message check (<c>allowMessage</c>): root receives everything; any other token only events that
    /// carry a data_path on which it has <c>subscribe</c>, and whose type one of that rule's
    /// <c>subscribe_event_types</c> globs matches. An event without data_path reaches root tokens only.
    /// </summary>
    private static bool MayReceive(Acl acl, string eventType, string? dataPath)
    {
        if (acl.IsRoot)
        {
            return true;
        }
        if (dataPath is null)
        {
            return false;
        }
        var caps = acl.Capabilities(dataPath);
        if (caps.HasFlag(Caps.Deny) || (caps & (Caps.Subscribe | Caps.Root)) == 0)
        {
            return false;
        }
        foreach (var glob in acl.SubscribeEventTypes(dataPath))
        {
            if (GlobMatches(glob, eventType))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The CloudEvents JSON envelope Vault's <c>json=true</c> frames carry (see docs/devvault.md for its sources).</summary>
    private byte[] KvEventFrame(Mount mount, int version, string eventType, string operation, string path, string? dataPath, (string Key, string Value)[] extra)
    {
        var id = Ids.Uuid();
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("source", "https://vaultproject.io/");
            w.WriteString("specversion", "1.0");
            w.WriteString("type", "*");
            w.WriteStartObject("data");
            w.WriteStartObject("event");
            w.WriteString("id", id);
            w.WriteStartObject("metadata");
            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["modified"] = "true",
                ["operation"] = operation,
                ["path"] = path,
            };
            if (dataPath is not null)
            {
                metadata["data_path"] = dataPath;
            }
            foreach (var (k, v) in extra)
            {
                metadata[k] = v;
            }
            foreach (var (k, v) in metadata)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("event_type", eventType);
            w.WriteStartObject("plugin_info");
            w.WriteString("mount_class", "secret");
            w.WriteString("mount_accessor", mount.Accessor);
            w.WriteString("mount_path", mount.FullPath);
            w.WriteString("plugin", "kv");
            if (version == 2)
            {
                w.WriteString("version", "2");
            }
            w.WriteEndObject();
            // DevVault has only the root namespace; Vault leaves "namespace" out for it (protobuf JSON omits "").
            w.WriteEndObject();
            w.WriteString("datacontentype", "application/cloudevents");
            w.WriteString("time", Ids.Time(Now));
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>ryanuber/go-glob, which Vault's event bus uses: <c>*</c> matches any run of characters, slashes included.</summary>
    internal static bool GlobMatches(string pattern, string subject)
    {
        if (pattern == "*")
        {
            return true;
        }
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return pattern == subject;
        }
        if (!subject.StartsWith(parts[0], StringComparison.Ordinal))
        {
            return false;
        }
        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = subject.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            at = found + parts[i].Length;
        }
        var last = parts[^1];
        return subject.Length - at >= last.Length && subject.EndsWith(last, StringComparison.Ordinal);
    }
}
