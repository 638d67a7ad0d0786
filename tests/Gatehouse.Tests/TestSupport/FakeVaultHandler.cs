using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Gatehouse.Vault;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.TestSupport;

/// <summary>One request as the fake handler saw it.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? Token, string? Namespace, string? WrapTtl, string? UserAgent, string Body);

/// <summary>
/// A delegate-backed <see cref="HttpMessageHandler"/>: each test scripts the answers it needs. Not a Vault emulator —
/// end-to-end tests run against DevVault.
/// </summary>
internal sealed class FakeVaultHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public FakeVaultHandler(Func<RecordedRequest, HttpResponseMessage> respond) => Respond = respond;

    public Func<RecordedRequest, HttpResponseMessage> Respond { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public int Count(string method, string path) => _requests.Count(r => r.Method == method && r.Path == path);

    private readonly List<(string Method, string Path, int Count, TaskCompletionSource Seen)> _waiters = [];

    /// <summary>Completes once <paramref name="count"/> requests of <paramref name="method"/> to <paramref name="path"/> have arrived.</summary>
    public Task WaitForRequestAsync(string method, string path, int count)
    {
        lock (_waiters)
        {
            if (Count(method, path) >= count)
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((method, path, count, seen));
            return seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public VaultClient CreateClient(TimeProvider? time = null, string? @namespace = null) =>
        new(new HttpMessageInvoker(this, disposeHandler: false), new Uri("http://vault.test:8200"), @namespace, time ?? new FakeTimeProvider());

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method.Method,
            request.RequestUri!.AbsolutePath,
            Header(request, VaultHeaders.Token),
            Header(request, VaultHeaders.Namespace),
            Header(request, VaultHeaders.WrapTtl),
            request.Headers.UserAgent.ToString(),
            body);
        _requests.Enqueue(recorded);
        var response = Respond(recorded);
        lock (_waiters)
        {
            _waiters.RemoveAll(w =>
            {
                if (Count(w.Method, w.Path) < w.Count)
                {
                    return false;
                }

                w.Seen.TrySetResult();
                return true;
            });
        }

        return response;
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Error(HttpStatusCode status, string message) =>
        Json(status, $$"""{"errors":["{{message}}"]}""");

    public static HttpResponseMessage Login(string token, int ttl, bool renewable = true, string accessor = "acc-1") =>
        Json(HttpStatusCode.OK, $$$"""{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":null,"auth":{"client_token":"{{{token}}}","accessor":"{{{accessor}}}","policies":["default"],"lease_duration":{{{ttl}}},"renewable":{{{(renewable ? "true" : "false")}}},"token_type":"service"}}""");

    public static HttpResponseMessage Wrapped(string wrapToken, int ttl, string creationPath) =>
        Json(HttpStatusCode.OK, $$$"""{"request_id":"","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":{"token":"{{{wrapToken}}}","accessor":"wacc","ttl":{{{ttl}}},"creation_time":"2024-01-02T03:04:05Z","creation_path":"{{{creationPath}}}","wrapped_accessor":"acc-w"}}""");
}
