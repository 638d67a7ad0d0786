using System.Collections.Immutable;
using System.Globalization;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The ldap method's file handling and login request, as Vault Agent's <c>auth/ldap</c> method behaves.</summary>
public sealed class LdapMethodTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-ldap-");
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogCollector _logs = new();

    public void Dispose() => _dir.Dispose();

    private string PathOf(string name) => Path.Combine(_dir, name);

    private LdapMethod Method(params (string Key, object Value)[] extra) => Method("alice", "auth/ldap", extra);

    private LdapMethod Method(string username, string mountPath, params (string Key, object Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("username", new HclString(username, default))
            .Add("password_file_path", new HclString(PathOf("password"), default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, value switch
            {
                bool b => new HclBool(b, default),
                _ => (HclNode)new HclString(Convert.ToString(value, CultureInfo.InvariantCulture)!, default),
            });
        }

        return new LdapMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"ldap\""), mountPath, _time,
            new FakeLogger(_logs));
    }

    private static async Task<LoginRequest> PrepareAsync(LdapMethod method) => await method.PrepareLoginAsync(null!, CancellationToken.None);

    private string LogText => string.Join("\n", _logs.GetSnapshot().Select(r => r.Message));

    [Fact]
    public async Task Ldap_Login_IsAPutToLoginSlashUsernameWithThePasswordAsTheFileHoldsIt()
    {
        await File.WriteAllTextAsync(PathOf("password"), " pass word\n");

        var request = await PrepareAsync(Method());

        Assert.Equal("auth/ldap/login/alice", request.LoginPath);
        Assert.Equal(" pass word\n", Assert.Single(request.Body!, kv => kv.Key == "password").Value);
        Assert.Single(request.Body!);
        Assert.False(File.Exists(PathOf("password")), "remove_password_after_reading defaults to true");
        Assert.Contains("ends with a line break", LogText, StringComparison.Ordinal);
        Assert.DoesNotContain("pass word", LogText, StringComparison.Ordinal);
        Assert.DoesNotContain("pass word", request.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bob", "auth/ldap", "auth/ldap/login/bob")]
    [InlineData("Jane Doe", "/auth/corp-ldap/", "auth/corp-ldap/login/Jane%20Doe")]
    [InlineData("ou/a?b#c", "auth/ldap", "auth/ldap/login/ou/a%3Fb%23c")]
    public void Ldap_LoginPath_EscapesTheUsernameAsGoDoes(string username, string mount, string expected) =>
        Assert.Equal(expected, Method(username, mount).LoginPath);

    [Fact]
    public async Task Ldap_MissingOrEmptyFile_KeepsTheLatestPassword_AndWithoutOneRefusesToLogIn()
    {
        var method = Method();
        var first = await PrepareAsync(method);
        Assert.Equal("latest known password is empty, cannot authenticate (put the password for alice in " + PathOf("password") + ")", first.Error);

        await File.WriteAllTextAsync(PathOf("password"), "one");
        Assert.Equal("one", (await PrepareAsync(method)).Body!["password"]);
        Assert.Equal("one", (await PrepareAsync(method)).Body!["password"]);

        // As Vault: an empty file is warned about, removed, and the latest password stays.
        await File.WriteAllTextAsync(PathOf("password"), "");
        Assert.Equal("one", (await PrepareAsync(method)).Body!["password"]);
        Assert.False(File.Exists(PathOf("password")));
        Assert.Contains("empty password file read", LogText, StringComparison.Ordinal);

        await File.WriteAllTextAsync(PathOf("password"), "two");
        Assert.Equal("two", (await PrepareAsync(method)).Body!["password"]);
    }

    [Fact]
    public async Task Ldap_RemoveFalse_LeavesTheFileAndRereadsItAtEachLogin()
    {
        var method = Method(("remove_password_after_reading", false));
        Assert.Equal(TimeSpan.FromMinutes(1), method.ReadPeriod);
        await File.WriteAllTextAsync(PathOf("password"), "one");
        Assert.Equal("one", (await PrepareAsync(method)).Body!["password"]);
        Assert.True(File.Exists(PathOf("password")));

        await File.WriteAllTextAsync(PathOf("password"), "rotated");
        Assert.Equal("rotated", (await PrepareAsync(method)).Body!["password"]);
    }

    [Fact]
    public async Task Ldap_PathIsADirectory_IsReportedAndNothingIsSent()
    {
        Directory.CreateDirectory(PathOf("password"));

        var request = await PrepareAsync(Method());

        Assert.NotNull(request.Error);
        Assert.Contains("is not a regular file or symlink", LogText, StringComparison.Ordinal);
        Assert.True(Directory.Exists(PathOf("password")));
    }

    [Fact]
    public void Ldap_ReadPeriodDefaults_AreVaults()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), Method().ReadPeriod);
        Assert.Equal(TimeSpan.FromSeconds(20), Method(("password_read_period", "20s")).ReadPeriod);
        Assert.Equal(TimeSpan.FromSeconds(20), Method(("password_read_period", "20"), ("remove_password_after_reading", false)).ReadPeriod);
    }

    [Fact]
    public async Task Ldap_ReadPeriodTicker_TakesAndRemovesTheFileBetweenLogins()
    {
        var method = Method(("password_read_period", "10s"));
        var waits = Channel.CreateUnbounded<bool>();
        method.TickerWaiting += () => waits.Writer.TryWrite(true);
        using var stop = new CancellationTokenSource();
        var ticker = method.RunAsync(stop.Token);
        await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        await File.WriteAllTextAsync(PathOf("password"), "from-the-ticker");
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(File.Exists(PathOf("password")), "not read before the period");
        _time.Advance(TimeSpan.FromSeconds(1));
        await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(PathOf("password")), "the ticker read and removed the file");
        Assert.Equal("from-the-ticker", (await PrepareAsync(method)).Body!["password"]);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ticker);
    }

    [Fact]
    public async Task Ldap_SymlinkToThePassword_ByDefaultOnlyTheLinkIsRemoved()
    {
        await File.WriteAllTextAsync(PathOf("real"), "linked");
        File.CreateSymbolicLink(PathOf("password"), PathOf("real"));

        Assert.Equal("linked", (await PrepareAsync(Method())).Body!["password"]);
        Assert.False(Path.Exists(PathOf("password")), "the link is removed");
        Assert.True(File.Exists(PathOf("real")), "the target stays");
    }

    [Fact]
    public async Task Ldap_SymlinkToThePassword_WithFollowSymlinks_RemovesTheTarget()
    {
        await File.WriteAllTextAsync(PathOf("real"), "linked");
        File.CreateSymbolicLink(PathOf("password"), PathOf("real"));

        Assert.Equal("linked", (await PrepareAsync(Method(("remove_password_follows_symlinks", true)))).Body!["password"]);
        Assert.False(File.Exists(PathOf("real")), "the target is removed");
        Assert.NotNull(new FileInfo(PathOf("password")).LinkTarget);
    }

    [Fact]
    public void AuthMethodFactory_Ldap_ReportsEveryMissingKey()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(),
            new AuthMethodConfig { Type = "ldap" }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("missing 'username' value", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing 'password_file_path' value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthMethodFactory_Ldap_BuildsTheMethodOnItsMount()
    {
        var config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty
            .Add("username", new HclString("svc", default))
            .Add("password_file_path", new HclString(PathOf("password"), default)), default);
        var method = AuthMethodFactory.Create(new GatehouseConfig(), new AuthMethodConfig { Type = "ldap", Config = config },
            _time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        Assert.Equal("auth/ldap/login/svc", Assert.IsType<LdapMethod>(method).LoginPath);
    }
}
