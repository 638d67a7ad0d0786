namespace Gatehouse.AutoAuth;

/// <summary>
/// The loop of a method's credential poller (aws iam, alicloud, oci), as Vault's <c>pollForCreds</c>: every interval on the
/// injected clock, one poll, until shutdown. The poll itself logs its failures and reports changes.
/// </summary>
internal static class CredentialPoller
{
    /// <param name="interval">Vault's <c>credential_poll_interval</c>.</param>
    /// <param name="time">The clock the wait runs on.</param>
    /// <param name="waiting">Called each time the timer is armed (a test hook).</param>
    /// <param name="poll">One poll.</param>
    /// <param name="cancellationToken">Shutdown.</param>
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Action waiting, Func<CancellationToken, Task> poll,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var tick = Task.Delay(interval, time, cancellationToken);
            waiting();
            await tick.ConfigureAwait(false);
            await poll(cancellationToken).ConfigureAwait(false);
        }
    }
}
