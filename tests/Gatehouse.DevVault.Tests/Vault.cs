using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault.Tests;

/// <summary>A tiny HTTP client for tests: what an application would send to Vault.</summary>
internal sealed class Vault(DevVaultServer server) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server.Address };

    public DevVaultServer Server => server;

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(
        string method, string path, string? token = null, object? body = null, Dictionary<string, string>? headers = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/v1/" + path);
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }
        foreach (var (k, v) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }
        var text = rawBody ?? (body is null ? null : body as string ?? System.Text.Json.JsonSerializer.Serialize(body));
        if (text is not null)
        {
            request.Content = new StringContent(text, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }
        var response = await _http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, content.Length == 0 ? null : JsonNode.Parse(content), response);
    }

    public async Task<JsonNode> OkAsync(string method, string path, string? token = null, object? body = null, Dictionary<string, string>? headers = null)
    {
        var (status, json, _) = await SendAsync(method, path, token ?? server.RootToken, body, headers);
        Assert.True(status is 200 or 204, $"{method} {path}: {status} {json?.ToJsonString()}");
        return json ?? new JsonObject();
    }

    public async Task<string> CreateTokenAsync(object body, string? parent = null) =>
        (await OkAsync("POST", "auth/token/create", parent, body))["auth"]!["client_token"]!.ToString();

    public void Dispose() => _http.Dispose();
}
