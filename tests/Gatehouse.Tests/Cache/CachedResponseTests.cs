using System.Text;
using Gatehouse.Cache;

namespace Gatehouse.Tests.Cache;

public sealed class CachedResponseTests
{
    private static CachedResponse Token() => new(
        200,
        [new("Content-Type", ["application/json"]), new("Date", ["old"]), new("Content-Length", ["99"])],
        Encoding.UTF8.GetBytes("""{"lease_duration":0,"auth":{"client_token":"s.x","lease_duration":3600,"renewable":true}}"""),
        authTtl: true);

    [Fact]
    public void HitResponse_SetsDateAgeAndHit_AndSplicesTheRemainingTtl()
    {
        var hit = Token().HitResponse("Mon, 30 Nov 2026 04:00:00 GMT", 7, 3593);

        Assert.Equal(200, hit.StatusCode);
        Assert.Equal(
            ["Content-Type: application/json", "Date: Mon, 30 Nov 2026 04:00:00 GMT", "Age: 7", "X-Cache: HIT"],
            hit.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
        Assert.Equal("""{"lease_duration":0,"auth":{"client_token":"s.x","lease_duration":3593,"renewable":true}}""", Encoding.UTF8.GetString(hit.Body.Span));
    }

    [Fact]
    public void HitResponse_IsSharedWithinTheSameSecond_AndRebuiltWhenAnyValueChanges()
    {
        var stored = Token();
        var date = "Mon, 30 Nov 2026 04:00:00 GMT";

        var first = stored.HitResponse(date, 1, 3599);
        Assert.Same(first, stored.HitResponse(date, 1, 3599));

        var later = stored.HitResponse("Mon, 30 Nov 2026 04:00:01 GMT", 2, 3598);
        Assert.NotSame(first, later);
        Assert.Contains(later.Headers, h => h.Key == "Age" && h.Value.Single() == "2");
        Assert.NotSame(later, stored.HitResponse("Mon, 30 Nov 2026 04:00:01 GMT", 2, 7200)); // renewed
    }
}
