using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.IntegrationTests.RealClients;

/// <summary>
/// Clients nobody here wrote, against <c>gatehouse dev</c>: hvac (Debian's python3-hvac) and node-vault (npm) each run
/// a whole session (tests/clients/*) over tcp and over the unix socket, on one keep-alive connection; and the bytes
/// Go's net/http and the vault CLI send over a unix socket (an empty Host header). A client that is not installed
/// fails the test with the install command; it never skips.
/// </summary>
public sealed class RealClientTests(DevSessionFixture dev) : IClassFixture<DevSessionFixture>
{
    private const string InstallHint = "run scripts/install-test-deps.sh (scripts/test.sh runs it before the tests)";

    private static string Script(string relative) => Path.Combine(DevSessionFixture.RepositoryRoot, "tests", "clients", relative);

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public Task Hvac_WholeSession_OnOneKeepAliveConnection(string transport) =>
        RunSessionAsync("hvac (Debian python3-hvac, /usr/bin/python3)", transport, "/usr/bin/python3", Script("python/hvac_session.py"));

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public Task NodeVault_WholeSession_OnOneKeepAliveConnection(string transport) =>
        RunSessionAsync("node-vault (tests/clients/node)", transport, "node", Script("node/node_vault_session.js"));

    private async Task RunSessionAsync(string client, string transport, string program, string script)
    {
        var before = dev.ConnectionsAccepted(transport);
        var (exitCode, output) = await ClientProcess.RunAsync(program, [
            script,
            "--address", dev.Address(transport),
            "--auto-auth-token-file", dev.Session.SinkPath,
            "--run-id", $"{Path.GetFileNameWithoutExtension(script)}-{transport}",
        ]);

        if (exitCode is ClientProcess.MissingDependency or ClientProcess.NotStarted)
        {
            Assert.Fail($"{client} is not installed: {InstallHint}.\n{output}");
        }

        Assert.True(exitCode == 0 && output.Contains("PASS:", StringComparison.Ordinal), $"{client} session over {transport} failed:\n{output}");
        var accepted = dev.ConnectionsAccepted(transport) - before;
        Assert.True(accepted == 1, $"Gatehouse's {transport} listener accepted {accepted} connections during the {client} session; one keep-alive connection was expected.\n{output}");
    }

    /// <summary>
    /// What Go's net/http sends over a unix socket (the vault CLI with VAULT_AGENT_ADDR=unix://…): an empty Host
    /// header. Then `vault kv get secret/hello`: its KV preflight (sys/internal/ui/mounts) and the read. All on one
    /// connection, each answer checked; the whole conversation is in every failure message.
    /// </summary>
    [Fact]
    public async Task GoHttpClient_EmptyHost_AndVaultCliKvGet_OverTheUnixSocket()
    {
        const string Go = "Host: \r\nUser-Agent: Go-http-client/1.1\r\n";
        string[] requests =
        [
            $"GET /v1/sys/health HTTP/1.1\r\n{Go}Accept-Encoding: gzip\r\n\r\n",
            $"GET /v1/sys/internal/ui/mounts/secret/hello HTTP/1.1\r\n{Go}X-Vault-Request: true\r\nAccept-Encoding: gzip\r\n\r\n",
            $"GET /v1/secret/data/hello HTTP/1.1\r\n{Go}X-Vault-Request: true\r\nAccept-Encoding: gzip\r\n\r\n",
        ];

        var before = dev.ConnectionsAccepted("unix");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(dev.SocketPath));
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        var transcript = new StringBuilder($"over {dev.SocketPath}, one connection:\n");
        var responses = new List<RawResponse>();
        foreach (var request in requests)
        {
            transcript.Append("\n>>> ").Append(request.Replace("\r\n", "\\r\\n", StringComparison.Ordinal)).Append('\n');
            try
            {
                var response = await RawHttp.ExchangeAsync(stream, request);
                responses.Add(response);
                transcript.Append("<<< ").Append(response).Append('\n');
            }
            catch (IOException exception)
            {
                transcript.Append("<<< no answer: ").Append(exception.Message).Append('\n');
                break;
            }
        }

        var conversation = transcript.ToString();
        Assert.True(responses.Count == requests.Length, $"the connection did not carry all {requests.Length} requests: {conversation}");
        Assert.True(dev.ConnectionsAccepted("unix") - before == 1, $"expected one connection: {conversation}");

        var (health, mounts, secret) = (responses[0], responses[1], responses[2]);
        Assert.True(health.Status == 200, $"sys/health with an empty Host: expected 200 {conversation}");
        var healthJson = JsonNode.Parse(health.Body)!;
        Assert.True(healthJson["initialized"]?.GetValue<bool>() == true && healthJson["sealed"]?.GetValue<bool>() == false, $"sys/health: {conversation}");

        Assert.True(mounts.Status == 200, $"the vault CLI's kv preflight (sys/internal/ui/mounts/secret/hello): expected 200 {conversation}");
        var mount = JsonNode.Parse(mounts.Body)!["data"]!;
        Assert.True(
            mount["type"]?.ToString() == "kv" && mount["options"]?["version"]?.ToString() == "2" && mount["path"]?.ToString() == "secret/",
            $"the preflight must say secret/ is KV v2: {conversation}");

        Assert.True(secret.Status == 200, $"GET secret/data/hello: expected 200 {conversation}");
        Assert.True(JsonNode.Parse(secret.Body)!["data"]?["data"]?["message"]?.ToString() == "hello from DevVault", $"secret/hello: {conversation}");
        Assert.True(responses.All(r => !string.Equals(r.Header("Connection"), "close", StringComparison.OrdinalIgnoreCase)), $"Gatehouse asked to close: {conversation}");
    }
}
