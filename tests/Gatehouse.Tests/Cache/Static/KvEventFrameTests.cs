using System.Text;
using Gatehouse.Cache.Static;

namespace Gatehouse.Tests.Cache.Static;

public sealed class KvEventFrameTests
{
    /// <summary>The write event Vault Proxy Enterprise's updater documents (static_secret_cache_updater.go).</summary>
    private const string ProxyWriteExample = """
{
  "id": "a3be9fb1-b514-519f-5b25-b6f144a8c1ce",
  "source": "https://vaultproject.io/",
  "specversion": "1.0",
  "type": "*",
  "data": {
    "event": {
      "id": "a3be9fb1-b514-519f-5b25-b6f144a8c1ce",
      "metadata": {
        "current_version": "1",
        "data_path": "secret/data/foo",
        "modified": "true",
        "oldest_version": "0",
        "operation": "data-write",
        "path": "secret/data/foo"
      }
    },
    "event_type": "kv-v2/data-write",
    "plugin_info": {
      "mount_class": "secret",
      "mount_accessor": "kv_5dc4d18e",
      "mount_path": "secret/",
      "plugin": "kv"
    }
  },
  "datacontentype": "application/cloudevents",
  "time": "2023-09-12T15:19:49.394915-07:00"
}
""";

    [Fact]
    public void Parse_VaultProxysWriteExample_IsAChangeOfTheDataPath()
    {
        var frame = KvEventFrame.Parse(Encoding.UTF8.GetBytes(ProxyWriteExample));

        Assert.Equal(new KvEventFrame(KvEventKind.Changed, "", "secret/data/foo", "kv-v2/data-write"), frame);
    }

    [Theory]
    [InlineData("kv-v2/data-write", "secret/", "secret/data/app", "secret/data/app")]
    [InlineData("kv-v2/data-patch", "secret/", "secret/data/app", "secret/data/app")]
    [InlineData("kv-v2/data-delete", "secret/", "secret/data/app", "secret/data/app")]
    [InlineData("kv-v2/delete", "secret/", "secret/delete/app", "secret/data/app")]
    [InlineData("kv-v2/undelete", "secret/", "secret/undelete/app", "secret/data/app")]
    [InlineData("kv-v2/destroy", "secret/", "secret/destroy/team/app", "secret/data/team/app")]
    [InlineData("kv-v2/metadata-write", "secret/", "secret/metadata/app", "secret/data/app")]
    [InlineData("kv-v2/metadata-patch", "secret/", "secret/metadata/app", "secret/data/app")]
    [InlineData("kv-v2/metadata-delete", "secret/", "secret/metadata/app", "secret/data/app")]
    [InlineData("kv-v2/config-write", "secret/", "secret/config", "secret/config")]                // not a secret: as given
    [InlineData("kv-v2/delete", "team/kv/", "team/kv/delete/data/x", "team/kv/data/data/x")]       // mount stripped first
    [InlineData("kv-v2/destroy", "delete/", "delete/destroy/app", "delete/data/app")]               // a mount named like an operation
    [InlineData("kv-v2/delete", "other/", "secret/delete/app", "secret/delete/app")]                // mount_path does not fit: as given
    [InlineData("kv-v1/write", "kv1/", "kv1/app", "kv1/app")]
    [InlineData("kv-v1/delete", "kv1/", "kv1/data/app", "kv1/data/app")]                           // v1 paths are never rewritten
    public void Parse_EachKvOperation_NamesTheSecret(string eventType, string mount, string path, string expected)
    {
        var frame = KvEventFrame.Parse(Frame(eventType, path, mount));

        Assert.Equal(KvEventKind.Changed, frame.Kind);
        Assert.Equal("", frame.Namespace);
        Assert.Equal(expected, frame.Path);
        Assert.Equal(eventType, frame.EventType);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("/", "")]
    [InlineData("ns1/", "ns1/")]
    [InlineData("ns1", "ns1/")]
    [InlineData("/ns1/team/", "ns1/team/")]
    public void Parse_Namespace_IsCanonical(string? ns, string expected)
    {
        var frame = KvEventFrame.Parse(Frame("kv-v2/destroy", "secret-v2/destroy/my-secret", "secret-v2/", ns));

        Assert.Equal(KvEventKind.Changed, frame.Kind);
        Assert.Equal(expected, frame.Namespace);
        Assert.Equal("secret-v2/data/my-secret", frame.Path);
    }

    [Theory]
    [InlineData("database/creds-create", "true")]
    [InlineData("kv-v2/data-write", "false")]
    [InlineData("kv-v2/data-write", null)]
    public void Parse_OtherPluginsAndUnmodifiedEvents_AreIgnored(string eventType, string? modified)
    {
        var frame = KvEventFrame.Parse(Frame(eventType, "secret/data/app", "secret/", modified: modified));

        Assert.Equal(KvEventKind.Ignored, frame.Kind);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"data":{"event_type":"kv-v2/data-write"}}""")]
    [InlineData("""{"data":{"event":{"metadata":{"modified":"true","path":"secret/data/a"}}}}""")]
    [InlineData("""{"data":{"event":{"metadata":{"modified":"true"}},"event_type":"kv-v2/data-write"}}""")]
    [InlineData("""{"data":{"event":{"metadata":{"modified":"true","path":7}},"event_type":"kv-v2/data-write"}}""")]
    [InlineData("""{"data":{"event":{"metadata":"x"},"event_type":"kv-v2/data-write"}}""")]
    public void Parse_AnythingElse_IsMalformed(string text)
    {
        Assert.Equal(KvEventKind.Malformed, KvEventFrame.Parse(Encoding.UTF8.GetBytes(text)).Kind);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8200", "ws://127.0.0.1:8200/v1/sys/events/subscribe/kv*?json=true&namespaces=*")]
    [InlineData("https://vault.example.com:8200/", "wss://vault.example.com:8200/v1/sys/events/subscribe/kv*?json=true&namespaces=*")]
    [InlineData("https://lb.example.com/vault", "wss://lb.example.com/vault/v1/sys/events/subscribe/kv*?json=true&namespaces=*")]
    public void SubscribeUri_FollowsVaultProxy(string address, string expected)
    {
        Assert.Equal(expected, KvEventSubscriber.SubscribeUri(new Uri(address)).AbsoluteUri);
    }

    private static byte[] Frame(string eventType, string path, string mount, string? ns = null, string? modified = "true")
    {
        var metadata = new System.Text.Json.Nodes.JsonObject { ["operation"] = eventType[(eventType.IndexOf('/', StringComparison.Ordinal) + 1)..], ["path"] = path };
        if (modified is not null)
        {
            metadata["modified"] = modified;
        }

        var data = new System.Text.Json.Nodes.JsonObject
        {
            ["event"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "e", ["metadata"] = metadata },
            ["event_type"] = eventType,
            ["plugin_info"] = new System.Text.Json.Nodes.JsonObject { ["mount_path"] = mount, ["plugin"] = "kv" },
        };
        if (ns is not null)
        {
            data["namespace"] = ns;
        }

        var root = new System.Text.Json.Nodes.JsonObject { ["id"] = "e", ["source"] = "https://vaultproject.io/", ["specversion"] = "1.0", ["type"] = "*", ["data"] = data };
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }
}
