using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.Cache;
using Gatehouse.Tests.TestSupport;
using Gatehouse.Vault;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Cache;

public sealed class VaultRenewalSenderTests
{
    private static CacheEntry Token(string @namespace = "root/") => new()
    {
        Id = CacheKey.Random(), Kind = CacheEntryKind.Token, Namespace = @namespace, RequestPath = "/v1/auth/token/create",
        Token = "s.child",
    };

    private static CacheEntry Lease(string @namespace = "root/") => new()
    {
        Id = CacheKey.Random(), Kind = CacheEntryKind.Lease, Namespace = @namespace, RequestPath = "/v1/database/creds/app",
        Lease = "database/creds/app/abc", LeaseToken = "s.owner",
    };

    private static HttpResponseMessage Json(string body, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static VaultRenewalSender Sender(FakeVaultHandler vault, TimeProvider? time = null) =>
        new(new VaultClient(new HttpMessageInvoker(vault, disposeHandler: false), new Uri("http://vault.test:8200"), @namespace: null,
            time ?? new FakeTimeProvider(), requestTimeout: VaultRenewalSender.Timeout));

    [Fact]
    public async Task Token_RenewsSelfWithTheEntrysTokenInItsNamespace_AndTakesTheTtlFromAuth()
    {
        var vault = new FakeVaultHandler(_ => Json("""{"lease_duration":0,"auth":{"client_token":"s.child","lease_duration":1800,"renewable":true}}"""));

        var result = await Sender(vault).RenewAsync(Token("team-a/"), CancellationToken.None);

        Assert.Equal(new RenewalResult(RenewalOutcome.Renewed, 1800), result);
        var request = Assert.Single(vault.Requests);
        Assert.Equal(("PUT", "/v1/auth/token/renew-self", "s.child", "team-a/"), (request.Method, request.Path, request.Token, request.Namespace));
        Assert.Equal(0, JsonDocument.Parse(request.Body).RootElement.GetProperty("increment").GetInt64());
    }

    [Fact]
    public async Task Token_AnAnswerWithoutAuth_IsAFailureToRetry_NotAnException()
    {
        var vault = new FakeVaultHandler(_ => Json("""{"lease_duration":600,"data":{}}"""));

        var result = await Sender(vault).RenewAsync(Token(), CancellationToken.None);

        Assert.Equal(RenewalOutcome.Failed, result.Outcome);
        Assert.Equal("the answer has no auth", result.Error);
    }

    [Fact]
    public async Task Lease_RenewsTheLeaseWithItsOwnersToken_InTheRootNamespaceWithoutHeader()
    {
        var vault = new FakeVaultHandler(_ => Json("""{"lease_id":"database/creds/app/abc","lease_duration":900,"renewable":true}"""));

        var result = await Sender(vault).RenewAsync(Lease(), CancellationToken.None);

        Assert.Equal(new RenewalResult(RenewalOutcome.Renewed, 900), result);
        var request = Assert.Single(vault.Requests);
        Assert.Equal(("PUT", "/v1/sys/leases/renew", "s.owner", (string?)null), (request.Method, request.Path, request.Token, request.Namespace));
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("database/creds/app/abc", body.GetProperty("lease_id").GetString());
        Assert.Equal(0, body.GetProperty("increment").GetInt64());
    }

    [Fact]
    public async Task Lease_AnEmptyAnswer_IsAFailureToRetry()
    {
        var vault = new FakeVaultHandler(_ => new HttpResponseMessage(HttpStatusCode.NoContent));

        var result = await Sender(vault).RenewAsync(Lease(), CancellationToken.None);

        Assert.Equal(new RenewalResult(RenewalOutcome.Failed, Error: "the answer is empty"), result);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, true)]
    [InlineData(HttpStatusCode.BadRequest, true)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, false)]
    public async Task ErrorStatus_RefusesOn4xx_FailsOtherwise(HttpStatusCode status, bool refused)
    {
        var expected = refused ? RenewalOutcome.Refused : RenewalOutcome.Failed;
        var vault = new FakeVaultHandler(_ => Json("""{"errors":["nope"]}""", status));

        var result = await Sender(vault).RenewAsync(Lease(), CancellationToken.None);

        Assert.Equal(new RenewalResult(expected, Error: $"Vault answered {(int)status}"), result);
    }

    [Fact]
    public async Task AHangingVault_FailsAfterTheTimeout_OnTheTimeProvider()
    {
        var time = new FakeTimeProvider();
        var hang = new TaskCompletionSource<HttpResponseMessage>();
        using var handler = new HangingHandler(hang.Task);
        var sender = new VaultRenewalSender(new VaultClient(new HttpMessageInvoker(handler, disposeHandler: false), new Uri("http://vault.test:8200"),
            @namespace: null, time, requestTimeout: VaultRenewalSender.Timeout));

        var renewal = sender.RenewAsync(Lease(), CancellationToken.None).AsTask();
        await handler.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(VaultRenewalSender.Timeout - TimeSpan.FromSeconds(1));
        Assert.False(renewal.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var result = await renewal.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new RenewalResult(RenewalOutcome.Failed, Error: "no answer within 30s"), result);
    }

    private sealed class HangingHandler(Task<HttpResponseMessage> answer) : HttpMessageHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            return await answer.WaitAsync(cancellationToken);
        }
    }
}
