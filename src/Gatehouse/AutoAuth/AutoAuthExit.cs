namespace Gatehouse.AutoAuth;

/// <summary>
/// The seam through which auto-auth and the sinks ask the host to end the process: exit_on_err (a login failed:
/// exit code 1 and a message for stderr) and exit_after_auth (every sink has written the first token: exit code 0).
/// The host awaits <see cref="Requested"/> beside its own shutdown signals, prints <see cref="AuthOutcome.Message"/>
/// when set, stops, and returns <see cref="AuthOutcome.ExitCode"/>. The first request wins.
/// </summary>
internal sealed class AutoAuthExit
{
    private readonly TaskCompletionSource<AuthOutcome> _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<AuthOutcome> Requested => _requested.Task;

    public bool Request(AuthOutcome outcome) => _requested.TrySetResult(outcome);
}
