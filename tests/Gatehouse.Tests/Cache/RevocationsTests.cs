using System.Text;
using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class RevocationsTests
{
    [Theory]
    [InlineData("/v1/auth/token/revoke", """{"token":"x"}""", RevocationKind.Token, "x")]
    [InlineData("/v1/ns1/auth/token/revoke", """{"token":"x"}""", RevocationKind.Token, "x")]
    [InlineData("/v1/auth/token/revoke-self", "", RevocationKind.Token, "req")]
    [InlineData("/v1/auth/token/revoke-accessor", """{"accessor":"a"}""", RevocationKind.Accessor, "a")]
    [InlineData("/v1/auth/token/revoke-orphan", """{"token":"x"}""", RevocationKind.Orphan, "x")]
    [InlineData("/v1/sys/leases/revoke", """{"lease_id":"l/1"}""", RevocationKind.Lease, "l/1")]
    [InlineData("/v1/sys/revoke", """{"lease_id":"l/1"}""", RevocationKind.Lease, "l/1")]
    [InlineData("/v1/sys/leases/revoke/l/1", "", RevocationKind.Lease, "l/1")]
    [InlineData("/v1/sys/revoke/l/1", "", RevocationKind.Lease, "l/1")]
    [InlineData("/v1/sys/leases/revoke-prefix/aws/creds", "", RevocationKind.LeasePrefix, "aws/creds")]
    [InlineData("/v1/sys/leases/revoke-force/aws", "", RevocationKind.LeasePrefix, "aws")]
    [InlineData("/v1/sys/revoke-prefix/aws", "", RevocationKind.LeasePrefix, "aws")]
    [InlineData("/v1/sys/revoke-force/aws", "", RevocationKind.LeasePrefix, "aws")]
    [InlineData("/v1/team/a/sys/leases/revoke", """{"lease_id":"l/1"}""", RevocationKind.Lease, "l/1")]
    public void Revocations_RecogniseEveryForm(string path, string body, object kind, string value)
    {
        var revocation = Revocations.Recognise(new CacheRequest("PUT", path, null, null, "req", Encoding.UTF8.GetBytes(body)));
        Assert.Equal(new Revocation((RevocationKind)kind, value), revocation);
    }

    [Theory]
    [InlineData("GET", "/v1/auth/token/revoke-self", "")]
    [InlineData("PUT", "/v1/auth/token/revoke", "not json")]
    [InlineData("PUT", "/v1/auth/token/revoke", """{"token":5}""")]
    [InlineData("PUT", "/v1/auth/token/lookup", """{"token":"x"}""")]
    public void Revocations_IgnoreOthers(string method, string path, string body) =>
        Assert.Null(Revocations.Recognise(new CacheRequest(method, path, null, null, "req", Encoding.UTF8.GetBytes(body))));
}
