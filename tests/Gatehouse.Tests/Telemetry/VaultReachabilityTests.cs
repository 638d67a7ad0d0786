using Gatehouse.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Telemetry;

public sealed class VaultReachabilityTests
{
    [Fact]
    public void VaultReachability_NextRecovery_CompletesOnTheFirstAnswerAfterAFailureOnly()
    {
        var reachability = new VaultReachability(new FakeTimeProvider());
        var recovery = reachability.NextRecovery;

        reachability.ReportSuccess();
        Assert.False(recovery.IsCompleted);

        reachability.ReportFailure();
        reachability.ReportFailure();
        Assert.False(recovery.IsCompleted);

        reachability.ReportSuccess();
        Assert.True(recovery.IsCompletedSuccessfully);
        Assert.True(reachability.IsReachable);

        // Later answers do not complete the next one; the next outage's end does.
        var next = reachability.NextRecovery;
        Assert.NotSame(recovery, next);
        reachability.ReportSuccess();
        Assert.False(next.IsCompleted);
        reachability.ReportFailure();
        reachability.ReportSuccess();
        Assert.True(next.IsCompletedSuccessfully);
    }
}
