using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>What <see cref="DevScenario.SetUpAsync"/> wrote.</summary>
public sealed record DevScenarioResult(string RoleIdPath, string SecretIdPath);

/// <summary>The `gatehouse dev` setup, done through DevVault's HTTP API like a real operator would.</summary>
public static class DevScenario
{
    /// <summary>
    /// The dev policy: read secrets under secret/ and kv/, the token self-paths, and child-token creation (so a
    /// newcomer can see the lease cache answer a repeated <c>auth/token/create</c>).
    /// </summary>
    public const string PolicyText = """
path "secret/*" {
  capabilities = ["read", "list"]
}
path "kv/*" {
  capabilities = ["read", "list"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
path "auth/token/create" {
  capabilities = ["create", "update"]
}
""";

    /// <summary>
    /// Enables approle at auth/approle, writes policy "dev", creates role "dev" (token_ttl 1h), writes role_id and
    /// secret_id files into <paramref name="workDirectory"/>, and writes secret/hello.
    /// </summary>
    public static async Task<DevScenarioResult> SetUpAsync(DevVaultServer server, string workDirectory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(server);
        Directory.CreateDirectory(workDirectory);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { BaseAddress = server.Address };
        http.DefaultRequestHeaders.Add("X-Vault-Token", server.RootToken);

        // JsonNode bodies, not anonymous objects: serializing those needs reflection that a Native AOT build lacks.
        async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body)
        {
            using var request = new HttpRequestMessage(method, "/v1/" + path);
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            }
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"DevVault setup: {method} {path} answered {(int)response.StatusCode}: {text}");
            }
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }

        await SendAsync(HttpMethod.Post, "sys/auth/approle", new JsonObject { ["type"] = "approle" }).ConfigureAwait(false);
        await SendAsync(HttpMethod.Put, "sys/policies/acl/dev", new JsonObject { ["policy"] = PolicyText }).ConfigureAwait(false);
        await SendAsync(HttpMethod.Post, "auth/approle/role/dev", new JsonObject { ["token_ttl"] = "1h", ["token_policies"] = new JsonArray(JsonValue.Create("dev")) }).ConfigureAwait(false);
        var roleId = (await SendAsync(HttpMethod.Get, "auth/approle/role/dev/role-id", null).ConfigureAwait(false))?["data"]?["role_id"]?.ToString();
        var secretId = (await SendAsync(HttpMethod.Post, "auth/approle/role/dev/secret-id", null).ConfigureAwait(false))?["data"]?["secret_id"]?.ToString();
        await SendAsync(HttpMethod.Post, "secret/data/hello", new JsonObject { ["data"] = new JsonObject { ["message"] = "hello from DevVault" } }).ConfigureAwait(false);

        var roleIdPath = Path.Combine(workDirectory, "role_id");
        var secretIdPath = Path.Combine(workDirectory, "secret_id");
        await File.WriteAllTextAsync(roleIdPath, roleId, ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(secretIdPath, secretId, ct).ConfigureAwait(false);
        return new DevScenarioResult(roleIdPath, secretIdPath);
    }
}
