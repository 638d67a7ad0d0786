using System.Net.Http.Headers;
using Gatehouse.ApiProxy;

namespace Gatehouse.Tests.ApiProxy;

public sealed class RetryPolicyTests
{
    [Theory]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(501, false)]
    [InlineData(412, true)]
    [InlineData(404, false)]
    [InlineData(429, true)]
    [InlineData(200, false)]
    public void IsRetryableStatus_Follows5xxExcept501And412(int status, bool retryable) =>
        Assert.Equal(retryable, new RetryPolicy(12, TimeSpan.FromMinutes(1), retryPreconditionFailed: true).IsRetryableStatus(status));

    [Fact]
    public void IsRetryableStatus_WhenInconsistentFail_DoesNotRetry412() =>
        Assert.False(new RetryPolicy(12, TimeSpan.FromMinutes(1), retryPreconditionFailed: false).IsRetryableStatus(412));

    [Theory]
    [InlineData(1, 0.0, 250)]
    [InlineData(2, 0.0, 500)]
    [InlineData(3, 0.0, 1000)]
    [InlineData(5, 0.0, 4000)]
    [InlineData(12, 0.0, 4000)]
    [InlineData(1, 0.999999, 374.99975)]
    public void Delay_DoublesFrom250msToA4sCap_TimesJitterOf1To1Point5(int retry, double jitter, double expectedMs) =>
        Assert.Equal(expectedMs, new RetryPolicy(12, TimeSpan.FromMinutes(1), true, () => jitter).Delay(retry, null).TotalMilliseconds, 3);

    [Theory]
    [InlineData(503, 5)]
    [InlineData(500, 60)]
    [InlineData(502, 60)]
    [InlineData(429, 60)]
    [InlineData(412, 60)]
    [InlineData(null, 60)]
    public void BudgetFor_A503HasTheUnavailableBudget_EverythingElseTheWholeOne(int? status, int seconds) =>
        Assert.Equal(
            TimeSpan.FromSeconds(seconds),
            new RetryPolicy(12, TimeSpan.FromMinutes(1), true, unavailableBudget: TimeSpan.FromSeconds(5)).BudgetFor(status));

    [Fact]
    public void UnavailableBudget_IsNeverLongerThanTheWholeBudget() =>
        Assert.Equal(
            TimeSpan.FromSeconds(10),
            new RetryPolicy(12, TimeSpan.FromSeconds(10), true, unavailableBudget: TimeSpan.FromMinutes(5)).BudgetFor(503));

    [Fact]
    public void Delay_RetryAfter_ReplacesTheBackoff() =>
        Assert.Equal(TimeSpan.FromSeconds(7), new RetryPolicy(12, TimeSpan.FromMinutes(1), true, () => 0).Delay(1, TimeSpan.FromSeconds(7)));

    [Fact]
    public void RetryAfter_ReadsSecondsAndDates()
    {
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var seconds = new HttpResponseMessage();
        seconds.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
        using var date = new HttpResponseMessage();
        date.Headers.RetryAfter = new RetryConditionHeaderValue(now.AddSeconds(5));
        using var none = new HttpResponseMessage();

        Assert.Equal(TimeSpan.FromSeconds(3), RetryPolicy.RetryAfter(seconds.Headers, now));
        Assert.Equal(TimeSpan.FromSeconds(5), RetryPolicy.RetryAfter(date.Headers, now));
        Assert.Null(RetryPolicy.RetryAfter(none.Headers, now));
    }
}
