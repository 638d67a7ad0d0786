using System.Text;
using Gatehouse.GoCompat;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// What Vault's HTTP layer (Go's net/http server and ServeMux, then Vault's handler) does before any Vault handler
/// runs: path cleaning, methods, Host headers, body parsing.
/// </summary>
public sealed class HttpLayerTests
{
    private static readonly UriCreationOptions s_verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>A client that sends paths byte for byte and never follows a redirect.</summary>
    private static HttpClient Client() => new(new SocketsHttpHandler { AllowAutoRedirect = false });

    private static HttpRequestMessage Request(DevVaultServer server, string method, string target, string? token = "root") =>
        WithToken(new HttpRequestMessage(new HttpMethod(method), new Uri(server.Address.GetLeftPart(UriPartial.Authority) + target, s_verbatim)), token);

    private static HttpRequestMessage WithToken(HttpRequestMessage request, string? token)
    {
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }
        return request;
    }

    // 12-edges "doubled slash inside the path", "doubled slash after the mount name", "doubled slash after /v1",
    // "dot segment in the path"; the query is kept as Go's ServeMux keeps it.
    [Theory]
    [InlineData("/v1/auth/token//lookup-self", "/v1/auth/token/lookup-self")]
    [InlineData("/v1/auth//token/lookup-self", "/v1/auth/token/lookup-self")]
    [InlineData("/v1//secret/data/app", "/v1/secret/data/app")]
    [InlineData("/v1/secret/data/../data/app", "/v1/secret/data/app")]
    [InlineData("/v1/secret/./data/app", "/v1/secret/data/app")]
    [InlineData("/v1/secret/metadata//?list=true", "/v1/secret/metadata/?list=true")]
    [InlineData("/v1/../sys/health", "/sys/health")]
    [InlineData("/v1/secret/data/a%20b//c", "/v1/secret/data/a%20b/c")]
    public async Task PathCleaning_UncleanPath_Gets301ToTheCleanedPathBeforeAnyHandler(string target, string location)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        // No token: the redirect comes before Vault's token check.
        using var response = await http.SendAsync(Request(server, "GET", target, token: null));
        Assert.Equal(301, (int)response.StatusCode);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal($"<a href=\"{location.Replace("&", "&amp;", StringComparison.Ordinal)}\">Moved Permanently</a>.\n\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PathCleaning_PostToUncleanPath_Gets301WithNoBody()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var request = Request(server, "POST", "/v1/secret//data/app");
        request.Content = new StringContent("""{"data":{"a":"b"}}""", Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        Assert.Equal(301, (int)response.StatusCode);
        Assert.Equal("/v1/secret/data/app", response.Headers.Location!.OriginalString);
        Assert.Null(response.Content.Headers.ContentType);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        // Nothing was written.
        using var read = await http.SendAsync(Request(server, "GET", "/v1/secret/data/app"));
        Assert.Equal(404, (int)read.StatusCode);
    }

    [Theory]
    [InlineData("/v1/secret/data/app/")]   // a trailing slash is clean
    [InlineData("/v1/secret/data/app")]
    public async Task PathCleaning_CleanPath_IsNotRedirected(string target)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var response = await http.SendAsync(Request(server, "GET", target));
        Assert.NotEqual(301, (int)response.StatusCode);
    }

    [Fact]
    public async Task PathCleaning_PathOutsideV1_Gets404NotARedirect()
    {
        // Vault's handler answers 404 to anything not under /v1/ before Go's ServeMux could redirect.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var response = await http.SendAsync(Request(server, "GET", "//v1/secret/data/app"));
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("""{"errors":[]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Path_UndecodableEscape_GetsGosPlainTextRefusal()
    {
        // Go's url.ParseRequestURI fails on "%zz", so its server refuses the request before Vault sees it.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var response = await RawHttp.SendAsync(server.Address, "GET /v1/secret/data/%zz HTTP/1.1\r\nHost: x\r\n\r\n", null, headRequest: false);
        Assert.Equal(400, response.Status);
        Assert.Equal("400 Bad Request", response.Body);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("close", response.Header("Connection"));
    }

    [Fact]
    public async Task Path_PercentEncodedSlash_IsDecodedLikeGo()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "secret/data/hello", body: new { data = new { a = "b" } });
        using var http = Client();
        using var response = await http.SendAsync(Request(server, "GET", "/v1/secret/data%2Fhello"));
        Assert.Equal(200, (int)response.StatusCode);
    }

    // 12-edges "HEAD on a KV v2 secret": Vault's logical layer has no HEAD operation.
    [Theory]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task Methods_HeadOrOptionsOnALogicalPath_Get405UnsupportedOperation(string method)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "secret/data/app", body: new { data = new { a = "b" } });
        using var http = Client();
        using var response = await http.SendAsync(Request(server, method, "/v1/secret/data/app"));
        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(method == "HEAD" ? "" : """{"errors":["1 error occurred:\n\t* unsupported operation\n\n"]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task Methods_HeadOrOptionsWithANonRootToken_FailThePolicyCheck(string method)
    {
        // No policy capability grants Vault's header (HEAD) or empty (OPTIONS) operation, and the policy check runs
        // before the backend could say "unsupported operation".
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/policies/acl/all", body: new { policy = """path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }""" });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "all" } });
        using var http = Client();
        using var response = await http.SendAsync(Request(server, method, "/v1/secret/data/app", token));
        Assert.Equal(403, (int)response.StatusCode);
        if (method == "OPTIONS")
        {
            Assert.Equal("""{"errors":["1 error occurred:\n\t* permission denied\n\n"]}""", await response.Content.ReadAsStringAsync());
        }
    }

    // 12-edges "OPTIONS on sys/health", "TRACE", "unknown method"; 08-errors "PATCH kv1", "POST sys/health".
    [Theory]
    [InlineData("OPTIONS", "/v1/sys/health")]
    [InlineData("TRACE", "/v1/sys/health")]
    [InlineData("BREW", "/v1/sys/health")]
    [InlineData("POST", "/v1/sys/health")]
    [InlineData("TRACE", "/v1/secret/data/app")]
    [InlineData("PATCH", "/v1/secret/data/app")]
    public async Task Methods_VaultDoesNotRoute_Get405WithAnEmptyErrorList(string method, string target)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var response = await http.SendAsync(Request(server, method, target, token: null));
        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal("""{"errors":[]}""", await response.Content.ReadAsStringAsync());
    }

    // 10-request-header "form-encoded body"; 12-edges "token lookup with a form-encoded body ..." (both forms).
    [Theory]
    [InlineData("application/x-www-form-urlencoded", "a=b&c=d+e&c=f", """{"a":"b","c":"d e,f"}""")]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8", "a=%2Fx", """{"a":"/x"}""")]
    [InlineData("Application/X-WWW-Form-Urlencoded", "x", """{"x":""}""")]
    // Vault sniffs the body: a form Content-Type on a body that starts like JSON is parsed as JSON.
    [InlineData("application/x-www-form-urlencoded", " \n{\"a\":\"b\"}", """{"a":"b"}""")]
    [InlineData("text/plain", "{\"a\":\"b\"}", """{"a":"b"}""")]
    public async Task Body_FormOrJson_IsStoredAsVaultParsesIt(string contentType, string body, string stored)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/mounts/kv", body: new { type = "kv", options = new { version = "1" } });
        using var http = Client();
        using var request = Request(server, "PUT", "/v1/kv/form");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await http.SendAsync(request);
        Assert.Equal(204, (int)response.StatusCode);
        var read = await vault.OkAsync("GET", "kv/form");
        Assert.Equal(stored, read["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Body_FormWithABadEscape_Gets400ErrorParsingFormData()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var request = Request(server, "POST", "/v1/auth/token/lookup");
        request.Content = new StringContent("token=%zz", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await http.SendAsync(request);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("""{"errors":["error parsing form data"]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "", 200)]        // nothing: the caller's own token
    [InlineData("application/x-www-form-urlencoded", "x", 200)]       // a field, but no token field
    [InlineData("application/x-www-form-urlencoded", "token=abc", 403)]
    [InlineData("text/plain", "x", 400)]
    [InlineData(null, "", 200)]
    public async Task Body_TokenLookup_ReadsTheTokenFieldWhereverTheBodyHasOne(string? contentType, string body, int status)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var http = Client();
        using var request = Request(server, "POST", "/v1/auth/token/lookup");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        if (status == 200)
        {
            Assert.Contains("\"id\":\"root\"", text, StringComparison.Ordinal);
        }
    }

    // 12-edges "two Host headers" and "no Host header at all (HTTP/1.1)": Go's server answers before any handler,
    // in plain text, and closes the connection.
    [Theory]
    [InlineData("Host: 127.0.0.1:8200\r\nHost: \r\n", "400 Bad Request")]
    [InlineData("Host: a\r\nhost: a\r\n", "400 Bad Request")]
    [InlineData("", "400 Bad Request: missing required Host header")]
    public async Task Host_TwoOrNoneOnHttp11_GetGosPlainTextRefusal(string hostLines, string text)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var response = await RawHttp.SendAsync(server.Address, $"GET /v1/sys/health HTTP/1.1\r\n{hostLines}\r\n", null, headRequest: false);
        Assert.Equal(400, response.Status);
        Assert.Equal(text, response.Body);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("close", response.Header("Connection"));
        Assert.Null(response.Header("Cache-Control"));
    }

    // 12-edges "an empty Host header" and "a Host that is not Vault's name"; HTTP/1.0 needs no Host.
    [Theory]
    [InlineData("HTTP/1.1", "Host: \r\n")]
    [InlineData("HTTP/1.1", "Host: vault.example.internal\r\n")]
    [InlineData("HTTP/1.0", "")]
    public async Task Host_EmptyForeignOrAbsentOnHttp10_IsServed(string version, string hostLines)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var response = await RawHttp.SendAsync(server.Address, $"GET /v1/sys/health {version}\r\n{hostLines}\r\n", null, headRequest: false);
        Assert.Equal(200, response.Status);
    }

    // 12-edges "CONNECT-style method name on a path"; Go requires no Host for CONNECT.
    [Theory]
    [InlineData("Host: 127.0.0.1\r\n")]
    [InlineData("")]
    public async Task Methods_ConnectWithAPath_Gets405WithAnEmptyErrorList(string hostLines)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var response = await RawHttp.SendAsync(server.Address, $"CONNECT /v1/sys/health HTTP/1.1\r\n{hostLines}\r\n", null, headRequest: false);
        Assert.Equal(405, response.Status);
        Assert.Equal("""{"errors":[]}""", response.Body);
    }

    [Fact]
    public async Task Host_RefusalOnAKeptAliveConnection_ComesAfterTheEarlierAnswers()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(server.Address.Host, server.Address.Port);
        var stream = client.GetStream();

        // A chunked body and a sized one first, so the request framing is followed across requests.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "PUT /v1/secret/data/a HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5\r\n{\"dat\r\n12;ext=1\r\na\":{\"k\":\"Host: \"}}\r\n0\r\n\r\n"));
        Assert.Equal(200, (await RawHttp.ReadAsync(stream, headRequest: false)).Status);
        var body = "{\"data\":\r\n\r\n{\"k\":\"GET / HTTP/1.1\"}}"; // a blank line inside the body is not a head's end
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"PUT /v1/secret/data/b HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        Assert.Equal(200, (await RawHttp.ReadAsync(stream, headRequest: false)).Status);

        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"));
        var refused = await RawHttp.ReadAsync(stream, headRequest: false);
        Assert.Equal(400, refused.Status);
        Assert.Equal("400 Bad Request", refused.Body);
    }

    [Fact]
    public async Task Host_RefusalPipelinedBehindAGoodRequest_ComesAfterItsAnswer()
    {
        // Both requests in one write: the good one is still answered, then Go's refusal, then the close.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(server.Address.Host, server.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/sys/health HTTP/1.1\r\n\r\n"));
        using var all = new MemoryStream();
        await stream.CopyToAsync(all); // until the server closes
        var text = Encoding.ASCII.GetString(all.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n400 Bad Request: missing required Host header", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("", "/")]
    [InlineData("a/b", "/a/b")]
    [InlineData("/a//b", "/a/b")]
    [InlineData("/a/./b/", "/a/b/")]
    [InlineData("/a/b/..", "/a")]
    [InlineData("/a/b/../", "/a/")]
    [InlineData("/../a", "/a")]
    [InlineData("/a/b//", "/a/b/")]
    [InlineData("/v1//", "/v1/")]
    public void GoPath_Clean_MatchesGosCleanPath(string path, string cleaned)
    {
        Assert.Equal(cleaned, GoPath.Clean(path));
    }

    [Theory]
    [InlineData("/a b?c#d", "/a%20b%3Fc%23d")]
    [InlineData("/k/$&+,:;=@-_.~", "/k/$&+,:;=@-_.~")]
    [InlineData("/ü", "/%C3%BC")]
    public void GoPath_Escape_MatchesGosPathEscaping(string path, string escaped)
    {
        Assert.Equal(escaped, GoPath.Escape(path));
    }
}
