using System.Text;
using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class CacheabilityTests
{
    private const string Login = """{"lease_id":"","renewable":false,"lease_duration":0,"auth":{"client_token":"c","accessor":"a","lease_duration":3600,"renewable":true,"token_type":"service","orphan":ORPHAN}}""";

    private static CacheDecision Decide(string path, string body, string? token = "managed", int status = 200, string contentType = "application/json", string method = "PUT") =>
        Cacheability.Decide(new CacheRequest(method, path, null, null, token, default), status, contentType, Encoding.UTF8.GetBytes(body), t => t == "managed");

    [Theory]
    [InlineData("/v1/auth/approle/login", "true", null, CacheDecisionKind.Token)]
    [InlineData("/v1/auth/approle/login", "true", "unmanaged", CacheDecisionKind.Token)]
    [InlineData("/v1/auth/token/create", "false", "managed", CacheDecisionKind.Token)]
    [InlineData("/v1/auth/token/create", "false", "unmanaged", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/auth/token/renew-self", "false", "managed", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/auth/token/renew", "false", "managed", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/ns1/auth/token/renew-self", "false", "managed", CacheDecisionKind.PassThrough)]
    public void Cacheability_Tokens(string path, string orphan, string? token, object expected) =>
        Assert.Equal(expected, (object)Decide(path, Login.Replace("ORPHAN", orphan, StringComparison.Ordinal), token).Kind);

    [Theory]
    [InlineData("/v1/secret/db", true, "managed", CacheDecisionKind.Lease)]
    [InlineData("/v1/secret/db", true, "unmanaged", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/secret/db", false, "managed", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/sys/leases/renew", true, "managed", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/sys/renew", true, "managed", CacheDecisionKind.PassThrough)]
    [InlineData("/v1/sys/renew/secret/db/x", true, "managed", CacheDecisionKind.PassThrough)]
    public void Cacheability_Leases(string path, bool renewable, string token, object expected) =>
        Assert.Equal(expected, (object)Decide(path, "{\"lease_id\":\"secret/db/x\",\"renewable\":" + (renewable ? "true" : "false") + ",\"lease_duration\":60,\"data\":{}}", token).Kind);

    [Fact]
    public void Cacheability_KvReadBatchTokenWrappedErrorsAndNonJson_PassThrough()
    {
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/kv/data/x", """{"lease_id":"","renewable":false,"lease_duration":0,"data":{"a":1}}""").Kind);
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/auth/token/create", Login.Replace("ORPHAN", "true", StringComparison.Ordinal).Replace("\"service\"", "\"batch\"", StringComparison.Ordinal)).Kind);
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/auth/approle/login", """{"wrap_info":{"token":"w"},"auth":null}""").Kind);
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/auth/approle/login", Login.Replace("ORPHAN", "true", StringComparison.Ordinal), status: 400).Kind);
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/auth/approle/login", Login.Replace("ORPHAN", "true", StringComparison.Ordinal), contentType: "text/plain").Kind);
        Assert.Equal(CacheDecisionKind.PassThrough, Decide("/v1/auth/approle/login", "not json").Kind);
        Assert.Equal(CacheDecisionKind.Token, Decide("/v1/auth/approle/login", Login.Replace("ORPHAN", "true", StringComparison.Ordinal), contentType: "application/json; charset=utf-8").Kind);
    }

    [Theory]
    [InlineData("""{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"lease_id":"x","auth":{}}},"auth":null}""", false)]
    [InlineData("""{"lease_id":"database/creds/app/abc","renewable":true,"lease_duration":60,"data":{}}""", true)]
    [InlineData("""{"data":{"k":[1,2,{"a":null}]},"lease_\u0069d":"escaped/name"}""", true)]
    [InlineData("""{"lease_id":"","auth":{"client_token":"s.x"}}""", true)]
    [InlineData("""{"lease_id":42}""", false)]
    [InlineData("""[{"lease_id":"x"}]""", false)]
    public void MayHoldLeaseOrAuth_ScansOnlyTheTopLevel(string json, bool expected) =>
        Assert.Equal(expected, Cacheability.MayHoldLeaseOrAuth(System.Text.Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void MayHoldLeaseOrAuth_MalformedJson_Throws() =>
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => Cacheability.MayHoldLeaseOrAuth("{\"data\":{"u8));
}
