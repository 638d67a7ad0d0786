using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using static Gatehouse.IntegrationTests.AutoAuth.AutoAuthHarness;

namespace Gatehouse.IntegrationTests.AutoAuth;

public sealed class AppRoleAutoAuthTests
{
    private const string RenewSelf = "/v1/auth/token/renew-self";
    private const string Login = "/v1/auth/approle/login";

    private static AuthMethodConfig AppRole(AutoAuthHarness h, params (string, object)[] extra) => new()
    {
        Type = "approle",
        Config = Map([("role_id_file_path", h.PathOf("role_id")), ("secret_id_file_path", h.PathOf("secret_id")), .. extra]),
    };

    [Fact]
    public async Task AppRole_LogsInWritesTheSinkAndRenewsAtTwoThirdsOfTheTtl()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h");
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("token")));

        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();
        var token = await File.ReadAllTextAsync(h.PathOf("token"));
        Assert.Equal(h.Store.Current!.Token, token);
        Assert.Equal(200, await h.StatusWithTokenAsync("auth/token/lookup-self", token));
        Assert.False(File.Exists(h.PathOf("secret_id")), "the secret ID file is removed after reading");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(h.PathOf("token")));
        }

        // ⅔ of 3600s plus ⅓ of a grace of 10–20% of it: between 2520s and 2640s.
        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.InRange(wait.Delay, TimeSpan.FromSeconds(2520), TimeSpan.FromSeconds(2640));
        h.Time.Advance(wait.Delay - TimeSpan.FromSeconds(1));
        Assert.Equal(0, h.Server.Faults.CountRequests("PUT", RenewSelf));
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(token, h.Store.Current!.Token);
    }

    [Fact]
    public async Task AppRole_WhenTokenIsRevokedAtVault_LogsInAgainAndUpdatesTheSink()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("token")));
        var renewal = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();
        var first = await File.ReadAllTextAsync(h.PathOf("token"));

        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        h.Time.Advance(renewal.Delay);
        await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        var second = await File.ReadAllTextAsync(h.PathOf("token"));
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(200, await h.StatusWithTokenAsync("auth/token/lookup-self", second));
    }

    [Fact]
    public async Task AppRole_RejectionReportsFromTheProxy_CauseOneNewLogin()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("token")));
        await h.NextWaitAsync();
        var first = h.Store.Current!.Token;

        // Vault revoked the token (reports about a token Vault still accepts — a policy denial — cause no login).
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        for (var i = 0; i < 10; i++)
        {
            h.Store.ReportRejected(first);
        }

        await h.NextWaitAsync();
        Assert.Equal(2, h.Server.Faults.CountRequests("PUT", Login));
        Assert.NotEqual(first, h.Store.Current!.Token);
    }

    [Fact]
    public async Task AppRole_VaultDownDuringRenewal_RetriesWithGrowingBackoffAndRecovers()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h");
        await h.StartGatehouseAsync(h.Config(AppRole(h) with { MinBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromSeconds(60) }));
        var renewal = await h.NextWaitAsync();
        var token = h.Store.Current!.Token;
        await h.Server.Faults.StopListenerAsync();
        h.Time.Advance(renewal.Delay);

        // Jitter takes off at most 25%: each step is in [¾·n, n] for n = 2, 4, 8, 16.
        var schedule = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            schedule.Add((await h.ElapseAsync(AuthWaitReason.RenewalBackoff)).Delay);
        }

        for (var i = 0; i < 4; i++)
        {
            var step = TimeSpan.FromSeconds(2 << i);
            Assert.InRange(schedule[i], step * 0.75, step);
        }

        var fifth = await h.NextWaitAsync();
        Assert.Equal(AuthWaitReason.RenewalBackoff, fifth.Reason);
        await h.Server.Faults.RestartListenerAsync();
        h.Time.Advance(fifth.Delay);
        var next = await h.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, next.Reason);
        Assert.Equal(token, h.Store.Current!.Token);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));
    }

    [Fact]
    public async Task AppRole_WhenMaxTtlIsReached_LogsInAgain()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h", tokenMaxTtl: "90m");
        await h.StartGatehouseAsync(h.Config(AppRole(h)));
        var first = h.Store.Current?.Token;

        AuthLoopWait wait;
        var renewals = 0;
        while (true)
        {
            wait = await h.NextWaitAsync();
            if (h.Server.Faults.CountRequests("PUT", Login) == 2)
            {
                break;
            }

            Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
            Assert.True(++renewals < 10, "the loop must log in again before the max TTL");
            h.Time.Advance(wait.Delay);
        }

        Assert.NotEqual(first, h.Store.Current!.Token);
        Assert.InRange(h.Server.Faults.CountRequests("PUT", RenewSelf), 1, 5);
    }

    [Fact]
    public async Task AppRole_ScriptedRun_RecordsAuthSuccessAndFailureMetrics()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(tokenTtl: "1h", writeSecretFile: false);
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("token")));

        // 1. No secret ID yet: a failed login.
        var backoff = await h.NextWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        Assert.Equal((0, 1), (h.Measured("vault.agent.auth.success"), h.Measured("vault.agent.auth.failure")));

        // 2. The secret ID arrives: a login, then a renewal — each a success.
        var secretId = (await h.RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id"))!["data"]!["secret_id"]!.ToString();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), secretId);
        h.Time.Advance(backoff.Delay);
        await h.ElapseAsync(AuthWaitReason.Renewal);
        var next = await h.NextWaitAsync();
        Assert.Equal(AuthWaitReason.Renewal, next.Reason);
        Assert.Equal((2, 1), (h.Measured("vault.agent.auth.success"), h.Measured("vault.agent.auth.failure")));

        // 3. Vault refuses the next renewal (token revoked): a failure, then a new login: a success.
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = h.Store.Current!.Token });
        h.Time.Advance(next.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextWaitAsync()).Reason);
        Assert.Equal((3, 2), (h.Measured("vault.agent.auth.success"), h.Measured("vault.agent.auth.failure")));
        Assert.Equal((3, 2), (h.Measured("vault.proxy.auth.success"), h.Measured("vault.proxy.auth.failure")));
    }

    [Fact]
    public async Task AppRole_WrappedSecretIdWithTheRightCreationPath_IsUnwrapped()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(writeSecretFile: false);
        var wrapped = await h.RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id", headers: new Dictionary<string, string> { ["X-Vault-Wrap-TTL"] = "5m" });
        await File.WriteAllTextAsync(h.PathOf("secret_id"), wrapped!["wrap_info"]!["token"]!.ToString());

        await h.StartGatehouseAsync(h.Config(AppRole(h, ("secret_id_response_wrapping_path", "auth/approle/role/app/secret-id"))));
        var wait = await h.NextWaitAsync();

        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
        Assert.False(File.Exists(h.PathOf("secret_id")));
    }

    [Fact]
    public async Task AppRole_WrappedSecretIdWithAWrongCreationPath_IsRefused()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync(writeSecretFile: false);
        var wrapped = await h.RootAsync(HttpMethod.Post, "sys/wrapping/wrap", new { secret_id = "attacker-chosen" },
            headers: new Dictionary<string, string> { ["X-Vault-Wrap-TTL"] = "5m" });
        var wrappingToken = wrapped!["wrap_info"]!["token"]!.ToString();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), wrappingToken);

        await h.StartGatehouseAsync(h.Config(AppRole(h, ("secret_id_response_wrapping_path", "auth/approle/role/app/secret-id"))));
        var wait = await h.NextWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, wait.Reason);
        Assert.Null(h.Store.Current);
        Assert.Equal(0, h.Server.Faults.CountRequests("PUT", Login));
        Assert.Equal(0, h.Server.Faults.CountRequests("PUT", "/v1/sys/wrapping/unwrap") + h.Server.Faults.CountRequests("POST", "/v1/sys/wrapping/unwrap"));
        var logs = h.AllLogText();
        Assert.Contains("SECURITY WARNING", logs, StringComparison.Ordinal);
        Assert.Contains("unable to validate wrapping token creation path", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(wrappingToken, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppRole_ExitOnErr_FirstLoginFailureRequestsExitCodeOne()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        await File.WriteAllTextAsync(h.PathOf("role_id"), "not-a-role");
        await h.StartGatehouseAsync(h.Config(AppRole(h) with { ExitOnError = true }));

        var outcome = await h.Exit.Requested.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("exit_on_err", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task AppRole_ExitAfterAuth_RequestsExitCodeZeroOnceEverySinkHasTheToken()
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("a"), h.FileSink("b")) with { ExitAfterAuth = true });

        var outcome = await h.Exit.Requested.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(h.Store.Current!.Token, await File.ReadAllTextAsync(h.PathOf("a")));
        Assert.Equal(h.Store.Current!.Token, await File.ReadAllTextAsync(h.PathOf("b")));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    [InlineData("garbage")]
    [InlineData("binary")]
    public async Task AppRole_BadCredentialFiles_GiveAClearLogLineAndBackoffNeverACrash(string kind)
    {
        await using var h = await StartVaultAsync();
        await h.SetUpAppRoleAsync();
        switch (kind)
        {
            case "missing": File.Delete(h.PathOf("role_id")); break;
            case "empty": await File.WriteAllTextAsync(h.PathOf("role_id"), "  \n"); break;
            case "garbage": await File.WriteAllTextAsync(h.PathOf("role_id"), "{{ not a role id }}"); break;
            case "binary": await File.WriteAllBytesAsync(h.PathOf("role_id"), [0xff, 0xfe, 0x00, 0x01]); break;
        }

        await h.StartGatehouseAsync(h.Config(AppRole(h)));
        var first = await h.ElapseAsync(AuthWaitReason.LoginBackoff);
        var second = await h.ElapseAsync(AuthWaitReason.LoginBackoff);
        Assert.True(second.Delay > first.Delay);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Level == Microsoft.Extensions.Logging.LogLevel.Error && r.Message.Contains("login failed", StringComparison.Ordinal));
        Assert.Null(h.Store.Current);
    }

    [Fact]
    public async Task AppRole_LogsAtTrace_ContainNoTokenOrSecretId()
    {
        await using var h = await StartVaultAsync();
        var (_, secretId) = await h.SetUpAppRoleAsync();
        await h.StartGatehouseAsync(h.Config(AppRole(h), h.FileSink("token")));
        await h.NextWaitAsync();
        var first = h.Store.Current!.Token;
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        h.Store.ReportRejected(first);
        var renewal = await h.NextWaitAsync();
        var second = h.Store.Current!.Token;
        h.Time.Advance(renewal.Delay);
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", RenewSelf));

        var logs = h.AllLogText();
        Assert.NotEmpty(h.Logs.GetSnapshot());
        Assert.DoesNotContain(first, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(second, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(secretId, logs, StringComparison.Ordinal);
    }
}
