using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// DevVault's emulation of Vault Enterprise 1.16+'s event notifications (<see cref="DevVaultOptions.EventStream"/>):
/// the subscribe ACL check, the CloudEvents JSON frames of every KV operation DevVault has, and the per-event filter
/// by <c>subscribe</c> capability and <c>subscribe_event_types</c>.
/// </summary>
public sealed class EventStreamTests
{
    /// <summary>A safety net only: every wait below ends on a frame or a close, never on time.</summary>
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private const string SubscriberPolicy = """
path "sys/events/subscribe/*" { capabilities = ["read"] }
path "secret/data/allowed/*" {
  capabilities = ["read", "subscribe"]
  subscribe_event_types = ["kv-v2/*"]
}
path "secret/data/typed/*" {
  capabilities = ["subscribe"]
  subscribe_event_types = ["kv-v1/*"]
}
path "secret/data/read-only/*" { capabilities = ["read"] }
""";

    [Fact]
    public async Task EventStream_KvV2Write_SendsVaultCloudEventJson()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        using var socket = await SubscribeAsync(server, server.RootToken, "kv*");

        await vault.OkAsync("PUT", "secret/data/app", body: new { data = new { password = "one" } });
        var frame = await ReceiveAsync(socket);

        Assert.Equal("https://vaultproject.io/", frame["source"]!.ToString());
        Assert.Equal("1.0", frame["specversion"]!.ToString());
        Assert.Equal("*", frame["type"]!.ToString());
        Assert.Equal("application/cloudevents", frame["datacontentype"]!.ToString());
        Assert.Equal(frame["id"]!.ToString(), frame["data"]!["event"]!["id"]!.ToString());
        var data = frame["data"]!;
        Assert.Equal("kv-v2/data-write", data["event_type"]!.ToString());
        Assert.Null(data["namespace"]);
        var metadata = data["event"]!["metadata"]!;
        Assert.Equal("secret/data/app", metadata["path"]!.ToString());
        Assert.Equal("secret/data/app", metadata["data_path"]!.ToString());
        Assert.Equal("data-write", metadata["operation"]!.ToString());
        Assert.Equal("true", metadata["modified"]!.ToString());
        Assert.Equal("1", metadata["current_version"]!.ToString());
        Assert.Equal("0", metadata["oldest_version"]!.ToString());
        var plugin = data["plugin_info"]!;
        Assert.Equal("secret/", plugin["mount_path"]!.ToString());
        Assert.Equal("kv", plugin["plugin"]!.ToString());
        Assert.Equal("secret", plugin["mount_class"]!.ToString());
        Assert.Equal("2", plugin["version"]!.ToString());
        Assert.StartsWith("kv_", plugin["mount_accessor"]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventStream_EveryKvOperation_SendsTheKvPluginsEventTypeAndPaths()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/mounts/kv1", body: new { type = "kv" });
        using var socket = await SubscribeAsync(server, server.RootToken, "kv*");

        // (request, event type, metadata.path, data_path or null)
        (Func<Task> Send, string Type, string Path, string? DataPath)[] steps =
        [
            (() => vault.OkAsync("PUT", "kv1/app", body: new { a = "1" }), "kv-v1/write", "kv1/app", "kv1/app"),
            (() => vault.OkAsync("DELETE", "kv1/app"), "kv-v1/delete", "kv1/app", null),
            (() => vault.OkAsync("PUT", "secret/data/app", body: new { data = new { a = "1" } }), "kv-v2/data-write", "secret/data/app", "secret/data/app"),
            (() => vault.OkAsync("DELETE", "secret/data/app"), "kv-v2/data-delete", "secret/data/app", null),
            (() => vault.OkAsync("PUT", "secret/undelete/app", body: new { versions = new[] { 1 } }), "kv-v2/undelete", "secret/undelete/app", "secret/data/app"),
            (() => vault.OkAsync("PUT", "secret/delete/app", body: new { versions = new[] { 1 } }), "kv-v2/delete", "secret/delete/app", null),
            (() => vault.OkAsync("PUT", "secret/destroy/app", body: new { versions = new[] { 1 } }), "kv-v2/destroy", "secret/destroy/app", null),
            (() => vault.OkAsync("PUT", "secret/metadata/app", body: new { max_versions = 3 }), "kv-v2/metadata-write", "secret/metadata/app", "secret/metadata/app"),
            (() => vault.OkAsync("DELETE", "secret/metadata/app"), "kv-v2/metadata-delete", "secret/metadata/app", null),
            (() => vault.OkAsync("PUT", "secret/config", body: new { max_versions = 5 }), "kv-v2/config-write", "secret/config", "secret/config"),
        ];
        foreach (var (send, type, path, dataPath) in steps)
        {
            await send();
            var data = (await ReceiveAsync(socket))["data"]!;
            Assert.Equal(type, data["event_type"]!.ToString());
            var metadata = data["event"]!["metadata"]!;
            Assert.Equal(path, metadata["path"]!.ToString());
            Assert.Equal(dataPath, metadata["data_path"]?.ToString());
            Assert.Equal(type[(type.IndexOf('/', StringComparison.Ordinal) + 1)..], metadata["operation"]!.ToString());
        }
    }

    [Fact]
    public async Task EventStream_VersionedOperations_CarryTheirVersionLists()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "secret/data/app", body: new { data = new { a = "1" } });
        await vault.OkAsync("PUT", "secret/data/app", body: new { data = new { a = "2" } });
        using var socket = await SubscribeAsync(server, server.RootToken, "kv-v2/*");

        await vault.OkAsync("PUT", "secret/delete/app", body: new { versions = new[] { 1, 2 } });
        Assert.Equal("[1,2]", (await ReceiveAsync(socket))["data"]!["event"]!["metadata"]!["deleted_versions"]!.ToString());
        await vault.OkAsync("PUT", "secret/undelete/app", body: new { versions = new[] { 2 } });
        var undelete = (await ReceiveAsync(socket))["data"]!["event"]!["metadata"]!;
        Assert.Equal("[2]", undelete["undeleted_versions"]!.ToString());
        Assert.Equal("2", undelete["current_version"]!.ToString());
        await vault.OkAsync("PUT", "secret/destroy/app", body: new { versions = new[] { 1 } });
        Assert.Equal("[1]", (await ReceiveAsync(socket))["data"]!["event"]!["metadata"]!["destroyed_versions"]!.ToString());
    }

    [Fact]
    public async Task EventStream_PatternOfTheSubscription_SelectsEventTypes()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/mounts/kv1", body: new { type = "kv" });
        using var socket = await SubscribeAsync(server, server.RootToken, "kv-v1/*");

        await vault.OkAsync("PUT", "secret/data/app", body: new { data = new { a = "1" } });
        await vault.OkAsync("PUT", "kv1/app", body: new { a = "1" });

        // Frames keep the order of the writes: the first one this socket sees is the v1 write.
        Assert.Equal("kv-v1/write", (await ReceiveAsync(socket))["data"]!["event_type"]!.ToString());
    }

    [Fact]
    public async Task EventStream_NonRootToken_ReceivesOnlyEventsItMaySubscribeTo()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/policies/acl/events", body: new { policy = SubscriberPolicy });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "events" } });
        using var socket = await SubscribeAsync(server, token, "kv*");

        // No subscribe capability; subscribe but a type the rule does not list; an event without data_path (root
        // only, as Vault 1.16 does); then the one this token may see.
        await vault.OkAsync("PUT", "secret/data/read-only/x", body: new { data = new { a = "1" } });
        await vault.OkAsync("PUT", "secret/data/typed/x", body: new { data = new { a = "1" } });
        await vault.OkAsync("PUT", "secret/data/allowed/x", body: new { data = new { a = "1" } });
        await vault.OkAsync("DELETE", "secret/data/allowed/x");
        await vault.OkAsync("PUT", "secret/data/allowed/y", body: new { data = new { a = "1" } });

        Assert.Equal("secret/data/allowed/x", (await ReceiveAsync(socket))["data"]!["event"]!["metadata"]!["path"]!.ToString());
        Assert.Equal("secret/data/allowed/y", (await ReceiveAsync(socket))["data"]!["event"]!["metadata"]!["path"]!.ToString());
    }

    [Fact]
    public async Task EventStream_TokenWithoutReadOnTheSubscribePath_Gets403()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/policies/acl/reader", body: new { policy = """path "secret/*" { capabilities = ["read", "subscribe"] }""" });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "reader" } });

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => SubscribeAsync(server, token, "kv*"));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        var (status, body, _) = await vault.SendAsync("GET", "sys/events/subscribe/kv*?json=true", token);
        Assert.Equal(403, status);
        Assert.Equal("permission denied", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task EventStream_Off_TheSubscribePathIsUnknown()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => SubscribeAsync(server, server.RootToken, "kv*"));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.EventSubscriberCount);
    }

    [Fact]
    public async Task EventStream_BadRequests_AreRefusedAsVaultDoes()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);

        var (status, body, _) = await vault.SendAsync("GET", "sys/events/subscribe/kv*?json=maybe", server.RootToken);
        Assert.Equal(400, status);
        Assert.Equal("invalid parameter for JSON: maybe", body!["errors"]![0]!.ToString());
        (status, body, _) = await vault.SendAsync("GET", "sys/events/subscribe/%20?json=true", server.RootToken);
        Assert.Equal(400, status);
        Assert.Equal("did not specify eventType to subscribe to", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task EventStream_DropEventStreams_ClosesNormallyAndAcceptsANewSubscription()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        using var socket = await SubscribeAsync(server, server.RootToken, "kv*");
        Assert.Equal(1, server.EventSubscriberCount);

        server.Faults.DropEventStreams();
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Safety);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);

        using var again = await SubscribeAsync(server, server.RootToken, "kv*");
        await vault.OkAsync("PUT", "secret/data/app", body: new { data = new { a = "1" } });
        Assert.Equal("kv-v2/data-write", (await ReceiveAsync(again))["data"]!["event_type"]!.ToString());
    }

    [Fact]
    public async Task EventStream_RevokedToken_StreamEndsAtTheNextEvent()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EventStream = true });
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/policies/acl/events", body: new { policy = SubscriberPolicy });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "events" } });
        using var socket = await SubscribeAsync(server, token, "kv*");

        await vault.OkAsync("PUT", "auth/token/revoke", body: new { token });
        await vault.OkAsync("PUT", "secret/data/allowed/x", body: new { data = new { a = "1" } });

        var result = await socket.ReceiveAsync(new byte[1024], CancellationToken.None).WaitAsync(Safety);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
    }

    private static async Task<ClientWebSocket> SubscribeAsync(DevVaultServer server, string token, string pattern)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Vault-Token", token);
        var uri = new Uri($"ws://{server.Address.Authority}/v1/sys/events/subscribe/{pattern}?json=true");
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(Safety);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    private static async Task<JsonNode> ReceiveAsync(ClientWebSocket socket)
    {
        using var cancel = new CancellationTokenSource(Safety);
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancel.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage)
            {
                return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length))!;
            }
        }
    }
}
