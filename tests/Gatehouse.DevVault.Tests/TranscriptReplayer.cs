using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// Sends each recorded request to one DevVault server, as recorded (volatile values replaced by what DevVault gave
/// for them earlier), and lists how DevVault's answer differs from Vault's. Requests HttpClient cannot send as
/// recorded (a recorded <c>host_header</c>: empty, several or none; the method CONNECT) go over a raw socket.
/// </summary>
internal sealed class TranscriptReplayer(DevVaultServer server, HttpClient http)
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Path and query go out byte for byte: System.Uri would otherwise resolve "/../" before sending.
    private static readonly UriCreationOptions s_verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly ShapeComparer _shapes = new();

    public Dictionary<string, string> Map => _shapes.Map;

    /// <summary>
    /// A replayer on the same server that has learned nothing: for a file recorded on another Vault server, whose
    /// volatile values have nothing to do with the ones learned so far.
    /// </summary>
    public TranscriptReplayer ForAnotherRecording() => new(server, http);

    public static IEnumerable<JsonObject> Exchanges(string file) =>
        File.ReadAllLines(Path.Combine(TranscriptReadme.Directory, file + ".jsonl"))
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(line => JsonNode.Parse(line)!.AsObject());

    public async Task<List<(string Name, List<string> Diffs)>> RunAsync(string file)
    {
        var results = new List<(string, List<string>)>();
        foreach (var exchange in Exchanges(file))
        {
            results.Add((exchange["name"]!.ToString(), await RunOneAsync(exchange)));
        }
        return results;
    }

    private async Task<List<string>> RunOneAsync(JsonObject exchange)
    {
        var req = exchange["request"]!.AsObject();
        var expected = exchange["response"]!.AsObject();
        var method = req["method"]!.ToString();
        var target = _shapes.Substitute(req["path"]!.ToString());
        var headers = new List<(string Name, string Value)>();
        string? contentType = null;
        foreach (var (name, value) in req["headers"]!.AsObject())
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = value!.ToString();
                continue;
            }
            headers.Add((name, _shapes.Substitute(value!.ToString())));
        }
        var body = req["body"];
        var bodyText = req["body_is_raw_text"]?.GetValue<bool>() == true ? body?.ToString() : body?.ToJsonString(s_json);
        var bodyBytes = bodyText is null ? null : Encoding.UTF8.GetBytes(_shapes.Substitute(bodyText));

        var sendRaw = req.ContainsKey("host_header") || method == "CONNECT";
        var response = sendRaw
            ? await SendRawAsync(method, target, HostLines(req), headers, contentType, bodyBytes)
            : await SendAsync(method, target, headers, contentType, bodyBytes);
        return Compare(expected, response);
    }

    /// <summary>The Host lines to send: as recorded when <c>host_header</c> is there (a string, a list, or null for none).</summary>
    private List<string> HostLines(JsonObject req)
    {
        if (!req.TryGetPropertyValue("host_header", out var recorded))
        {
            return [server.Address.Authority];
        }
        return recorded switch
        {
            null => [],
            JsonArray many => [.. many.Select(h => h?.ToString() ?? "")],
            _ => [recorded.ToString()],
        };
    }

    private async Task<RawHttp.Response> SendAsync(string method, string target, List<(string Name, string Value)> headers, string? contentType, byte[]? body)
    {
        using var message = new HttpRequestMessage(new HttpMethod(method), new Uri(server.Address.GetLeftPart(UriPartial.Authority) + target, s_verbatim));
        foreach (var (name, value) in headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (body is not null)
        {
            var content = new ByteArrayContent(body);
            if (contentType is not null)
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            message.Content = content;
        }
        using var response = await http.SendAsync(message);
        var all = response.Headers.Concat(response.Content.Headers)
            .SelectMany(h => h.Value.Select(v => (h.Key, v)))
            .ToList();
        if (response.Headers.ConnectionClose == true && !all.Any(h => h.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)))
        {
            all.Add(("Connection", "close"));
        }
        return new RawHttp.Response((int)response.StatusCode, all, await response.Content.ReadAsStringAsync());
    }

    private async Task<RawHttp.Response> SendRawAsync(
        string method, string target, List<string> hosts, List<(string Name, string Value)> headers, string? contentType, byte[]? body)
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\n");
        foreach (var host in hosts)
        {
            head.Append($"Host: {host}\r\n");
        }
        foreach (var (name, value) in headers)
        {
            head.Append($"{name}: {value}\r\n");
        }
        if (body is not null)
        {
            if (contentType is not null)
            {
                head.Append($"Content-Type: {contentType}\r\n");
            }
            head.Append($"Content-Length: {body.Length}\r\n");
        }
        head.Append("\r\n");
        return await RawHttp.SendAsync(server.Address, head.ToString(), body, headRequest: method == "HEAD");
    }

    private List<string> Compare(JsonObject expected, RawHttp.Response response)
    {
        var diffs = new List<string>();
        var text = response.Body;
        var status = expected["status"]!.GetValue<int>();
        if (response.Status != status)
        {
            diffs.Add($"status {response.Status}, expected {status}; body {text}");
        }
        var headers = expected["headers"]!.AsObject();
        foreach (var h in new[] { "Cache-Control", "Content-Type", "Location", "Connection" })
        {
            // Location and Connection only where Vault sent them: HttpClient's keep-alive bookkeeping is not Vault's.
            if (h is "Location" or "Connection" && !headers.ContainsKey(h) && response.Header(h) is null)
            {
                continue;
            }
            if (headers[h]?.ToString() != response.Header(h))
            {
                diffs.Add($"header {h}: {response.Header(h) ?? "(none)"}, expected {headers[h]?.ToString() ?? "(none)"}");
            }
        }
        if (headers.ContainsKey("X-Vault-Index") != (response.Header("X-Vault-Index") is not null))
        {
            diffs.Add("X-Vault-Index presence differs");
        }
        var expectedBody = expected["body"];
        if (expected["body_is_raw_text"]?.GetValue<bool>() == true)
        {
            if (expectedBody?.ToString() != text)
            {
                diffs.Add($"body \"{text}\", expected \"{expectedBody}\"");
            }
            return diffs;
        }
        JsonNode? actualBody = null;
        try
        {
            actualBody = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            diffs.Add("body is not JSON: " + text);
        }
        if (expectedBody is null && text.Length > 0)
        {
            diffs.Add("expected an empty body, got " + text);
        }
        else if (expectedBody is not null)
        {
            _shapes.LearnAndCompare(expectedBody, actualBody, diffs);
        }
        return diffs;
    }
}
