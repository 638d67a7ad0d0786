using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.DevVault;

internal sealed class TokenEntry
{
    public required string Id { get; init; }
    public string Accessor { get; init; } = "";
    public required List<string> Policies { get; init; }
    public Dictionary<string, string>? Meta { get; init; }
    public string DisplayName { get; init; } = "token";
    public required DateTimeOffset CreationTime { get; init; }
    public DateTimeOffset IssueTime { get; init; }
    public long CreationTtl { get; init; }
    /// <summary>Current lease TTL (updated on renewal); a renewal without increment reuses it.</summary>
    public long Ttl { get; set; }
    public DateTimeOffset? ExpireTime { get; set; }
    /// <summary>Absolute cap from explicit_max_ttl, a role's max TTL or the system max (null = none, root).</summary>
    public DateTimeOffset? MaxExpire { get; set; }
    public long ExplicitMaxTtl { get; init; }
    public long Period { get; init; }
    public int NumUses { get; set; }
    public bool UsesLimited { get; init; }
    public bool Renewable { get; init; }
    public bool Orphan { get; set; }
    public string? Parent { get; set; }
    public HashSet<string> Children { get; } = new(StringComparer.Ordinal);
    public string Path { get; init; } = "auth/token/create";
    public string Type { get; init; } = "service";
    public string EntityId { get; init; } = "";
    public DateTimeOffset? LastRenewal { get; set; }
    public string? LeaseId { get; set; }
    // Response wrapping
    public bool IsWrapping { get; init; }
    public byte[]? WrappedResponse { get; set; }
    public string? WrapCreationPath { get; init; }
    public List<string>? SecretLeases { get; set; }
}

internal sealed class Mount
{
    public required string Path { get; init; }            // "secret/" (auth mounts without the "auth/" prefix)
    public required string Type { get; init; }
    public required string Accessor { get; init; }
    public string Uuid { get; init; } = Ids.Uuid();
    public string Description { get; set; } = "";
    public Dictionary<string, string>? Options { get; set; }
    public bool Local { get; init; }
    public bool IsAuth { get; init; }
    public long DefaultLeaseTtl { get; set; }
    public long MaxLeaseTtl { get; set; }
    public int KvVersion => Type == "kv" && Options?.GetValueOrDefault("version") == "2" ? 2 : 1;
    public object? State { get; set; }
    public string FullPath => IsAuth ? "auth/" + Path : Path;
}

internal sealed class Lease
{
    public required string Id { get; init; }
    public required DateTimeOffset IssueTime { get; init; }
    public DateTimeOffset? ExpireTime { get; set; }
    public DateTimeOffset? LastRenewal { get; set; }
    public bool Renewable { get; init; }
    public long OriginalTtl { get; init; }
    public DateTimeOffset? MaxExpire { get; init; }
    public string? TokenId { get; init; }
    public JsonNode? Data { get; init; }
    public string? OwnerToken { get; init; }
}

internal sealed class WrapInfo
{
    public required string Token { get; init; }
    public required string Accessor { get; init; }
    public long Ttl { get; init; }
    public DateTimeOffset CreationTime { get; init; }
    public required string CreationPath { get; init; }
    public string? WrappedAccessor { get; init; }
}

internal sealed class AuthBlock
{
    public required string ClientToken { get; init; }
    public required string Accessor { get; init; }
    public required List<string> Policies { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
    public long LeaseDuration { get; init; }
    public bool Renewable { get; init; }
    public string EntityId { get; init; } = "";
    public string TokenType { get; init; } = "service";
    public bool Orphan { get; init; }
}

internal sealed class VaultRequest
{
    public required string HttpMethod { get; init; }
    /// <summary>read, list, create, update, delete.</summary>
    public string Operation { get; set; } = "read";
    /// <summary>Path after "/v1/", without leading slash.</summary>
    public required string Path { get; set; }
    public required HttpContext Http { get; init; }
    public JsonObject Body { get; set; } = [];
    public bool HasBody { get; set; }
    public TokenEntry? Token { get; set; }
    public string? ClientToken { get; set; }
    public DateTimeOffset Now { get; init; }
    public long WrapTtl { get; set; }
    public string? WrapFormat { get; set; }
    public Acl? Acl { get; set; }
    public X509Certificate2? ClientCertificate { get; set; }
    public string RequestId { get; } = Ids.Uuid();

    public string? Query(string name) => Http.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;
}

internal sealed class VaultResponse
{
    public int Status { get; set; } = 200;
    public List<string>? Errors { get; set; }
    /// <summary>Non-envelope body (health, seal-status, leader, init).</summary>
    public JsonObject? Raw { get; set; }
    /// <summary>Keys Vault copies above the envelope (sys/mounts, tune, legacy policy, capabilities).</summary>
    public JsonObject? TopLevel { get; set; }
    public bool NoBody { get; set; }
    public string RequestId { get; set; } = "";
    public string LeaseId { get; set; } = "";
    public bool Renewable { get; set; }
    public long LeaseDuration { get; set; }
    public JsonNode? Data { get; set; }
    public WrapInfo? Wrap { get; set; }
    public List<string>? Warnings { get; set; }
    public AuthBlock? Auth { get; set; }
    /// <summary>A stored body sent verbatim (unwrap).</summary>
    public byte[]? Prebuilt { get; set; }
    /// <summary>Set by handlers that are reads for the consistency emulation.</summary>
    public bool IsEnvelope => Errors is null && Raw is null && !NoBody && Prebuilt is null;

    public static VaultResponse Error(int status, params string[] errors) => new() { Status = status, Errors = [.. errors] };
    public static VaultResponse NotFound() => Error(404);
    public static VaultResponse BadRequest(string message) => Error(400, message);
    public static VaultResponse NoContent() => new() { Status = 204, NoBody = true };
    public static VaultResponse Ok(JsonNode? data) => new() { Data = data };
    public static VaultResponse UnsupportedPath() => Error(404, "1 error occurred:\n\t* unsupported path\n\n");
    public static VaultResponse UnsupportedOperation() => Error(405, "1 error occurred:\n\t* unsupported operation\n\n");
    public static VaultResponse PermissionDenied() => Error(403, "1 error occurred:\n\t* permission denied\n\n");
    public static VaultResponse BadToken() => Error(403, "permission denied");
}
