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
        var hit = Token().HitResponse(new HitClock(100, "Mon, 30 Nov 2026 04:00:00 GMT"), 7, 3593);

        Assert.Equal(200, hit.StatusCode);
        Assert.Equal(
            ["Content-Type: application/json", "Date: Mon, 30 Nov 2026 04:00:00 GMT", "Age: 7", "X-Cache: HIT"],
            hit.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
        Assert.Equal("""{"lease_duration":0,"auth":{"client_token":"s.x","lease_duration":3593,"renewable":true}}""", Encoding.UTF8.GetString(hit.Body.Span));
    }

    [Fact]
    public void HitResponse_OfAHotEntry_IsSharedWithinTheSameSecond_AndRebuiltWhenAnyValueChanges()
    {
        var stored = Token();
        var clock = new HitClock(100, "Mon, 30 Nov 2026 04:00:00 GMT");

        stored.HitResponse(clock, 1, 3599);
        var first = stored.HitResponse(clock, 1, 3599);
        Assert.Same(first, stored.HitResponse(clock, 1, 3599));

        var nextSecond = new HitClock(101, "Mon, 30 Nov 2026 04:00:01 GMT");
        var later = stored.HitResponse(nextSecond, 2, 3598);
        Assert.NotSame(first, later);
        Assert.Same(later, stored.HitResponse(nextSecond, 2, 3598));
        Assert.Contains(later.Headers, h => h.Key == "Age" && h.Value.Single() == "2");
        Assert.NotSame(later, stored.HitResponse(nextSecond, 2, 7200)); // renewed
    }

    [Fact]
    public void HitResponse_OfAnEntryHitNowAndThen_KeepsNothing()
    {
        // Most of many cached child tokens are hit rarely: none of them may keep a second copy of its body.
        var stored = Token();

        var once = stored.HitResponse(new HitClock(100, "Mon, 30 Nov 2026 04:00:00 GMT"), 1, 3599);
        Assert.False(stored.HoldsHitAnswer);
        Assert.NotSame(once, stored.HitResponse(new HitClock(160, "Mon, 30 Nov 2026 04:01:00 GMT"), 61, 3539));
        Assert.False(stored.HoldsHitAnswer);

        stored.HitResponse(new HitClock(160, "Mon, 30 Nov 2026 04:01:00 GMT"), 61, 3539);
        Assert.True(stored.HoldsHitAnswer);
        stored.HitResponse(new HitClock(400, "Mon, 30 Nov 2026 04:05:00 GMT"), 301, 3299);
        Assert.False(stored.HoldsHitAnswer); // a hot entry gone cold lets its last answer go
    }

    [Fact]
    public void HitResponse_SharesTheSecondsDateHeader()
    {
        var clock = new HitClock(100, "Mon, 30 Nov 2026 04:00:00 GMT");

        var a = Token().HitResponse(clock, 1, 3599);
        var b = Token().HitResponse(clock, 5, 3595);

        Assert.Same(a.Headers.Single(h => h.Key == "Date").Value, b.Headers.Single(h => h.Key == "Date").Value);
    }

    [Fact]
    public void Answers_WithTheSameHeaders_ShareOneHeaderArray()
    {
        // Vault's answers carry the same few headers; each stored answer must not hold its own copies.
        static KeyValuePair<string, string[]>[] VaultHeaders(string date) =>
            [new("Cache-Control", ["no-store"]), new("Date", [date]), new("Content-Type", ["application/json"]), new("Content-Length", ["99"])];

        var a = new CachedResponse(200, VaultHeaders("Mon, 30 Nov 2026 04:00:00 GMT"), "{}"u8.ToArray(), authTtl: false);
        var b = new CachedResponse(200, VaultHeaders("Mon, 30 Nov 2026 04:00:09 GMT"), "{}"u8.ToArray(), authTtl: false);
        var other = new CachedResponse(200, [new("Cache-Control", ["no-store"]), new("Content-Type", ["application/json; charset=utf-8"])], "{}"u8.ToArray(), authTtl: false);

        Assert.Same(a.Headers, b.Headers);
        Assert.Equal(["Cache-Control: no-store", "Content-Type: application/json"], a.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
        Assert.NotSame(a.Headers, other.Headers);
    }

    [Fact]
    public void BodyWithTtl_SplicesEveryLeaseDuration_WhenTheBodyHoldsMoreThanOne()
    {
        var stored = new CachedResponse(200, [], Encoding.UTF8.GetBytes("""{"lease_duration":30,"data":{},"lease_duration":30}"""), authTtl: false);

        Assert.Equal(2, stored.TtlSpans.Length);
        Assert.Equal("""{"lease_duration":7,"data":{},"lease_duration":7}""", Encoding.UTF8.GetString(stored.BodyWithTtl(7)));
    }
}
