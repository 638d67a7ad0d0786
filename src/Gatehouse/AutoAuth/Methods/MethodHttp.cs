using System.Text.Json.Nodes;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// One request of a method to a metadata service or a cloud's token endpoint, under a deadline on the injected clock.
/// A transport failure or the deadline is a value the method words for its user, never an exception; shutting down
/// still cancels.
/// </summary>
internal static class MethodHttp
{
    /// <summary>The answer: status and body, or <see cref="TimedOut"/>, or the transport's <see cref="Failure"/>.</summary>
    public readonly record struct Answer(int Status, string? Body, bool TimedOut, string? Failure)
    {
        public bool Failed => TimedOut || Failure is not null;
    }

    public static async Task<Answer> SendAsync(HttpMessageInvoker http, HttpRequestMessage request, TimeSpan timeout, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await http.SendAsync(request, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            return new Answer((int)response.StatusCode, body, false, null);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new Answer(0, null, true, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new Answer(0, null, false, e.Message);
        }
    }

    /// <summary>
    /// Headers as Go's json.Marshal writes an http.Header (keys sorted, each a list), as aws and alicloud send their
    /// signed call's headers. JsonNode rather than JsonSerializer: reflection-based serialization is not available in
    /// the Native AOT build.
    /// </summary>
    public static string GoHeaderJson(SortedDictionary<string, string[]> headers)
    {
        var json = new JsonObject();
        foreach (var (name, values) in headers)
        {
            json[name] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }

        return json.ToJsonString();
    }
}
