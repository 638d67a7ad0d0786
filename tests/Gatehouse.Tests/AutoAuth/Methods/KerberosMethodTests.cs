using System.Collections.Immutable;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>
/// The kerberos method's keys and the failures it reports before any Kerberos exchange. Logins against a real KDC are
/// in tests/Gatehouse.IntegrationTests (KerberosAutoAuthEndToEndTests).
/// </summary>
public sealed class KerberosMethodTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-kerberos-");

    public void Dispose() => _dir.Dispose();

    private string PathOf(string name) => Path.Combine(_dir, name);

    private KerberosMethod Method(string username = "svc-app", params (string Key, HclNode Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("username", new HclString(username, default))
            .Add("service", new HclString("HTTP/vault.example.com", default))
            .Add("realm", new HclString("EXAMPLE.COM", default))
            .Add("keytab_path", new HclString(PathOf("svc.keytab"), default))
            .Add("krb5conf_path", new HclString(PathOf("krb5.conf"), default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, value);
        }

        return new KerberosMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"kerberos\""), "auth/kerberos");
    }

    [Fact]
    public void Kerberos_ReadsEveryKey_FastNegotiationDefaultsToEnabled()
    {
        var method = Method();
        Assert.Equal("kerberos", method.Type);
        Assert.Equal("HTTP/vault.example.com", method.Service);
        Assert.Equal(PathOf("svc.keytab"), method.KeytabPath);
        Assert.Equal(PathOf("krb5.conf"), method.Krb5ConfPath);
        Assert.False(method.DisableFastNegotiation);
        Assert.True(Method(extra: ("disable_fast_negotiation", new HclBool(true, default))).DisableFastNegotiation);
    }

    [Theory]
    [InlineData("svc-app", "svc-app@EXAMPLE.COM")]
    [InlineData("svc-app/host.example.com", "svc-app/host.example.com@EXAMPLE.COM")]
    [InlineData("alice@corp", "alice\\@corp@EXAMPLE.COM")]
    [InlineData("back\\slash", "back\\\\slash@EXAMPLE.COM")]
    public void Kerberos_ClientPrincipal_IsUsernameAtRealm_WithKrb5NameEscapes(string username, string principal) =>
        Assert.Equal(principal, Method(username).ClientPrincipal);

    [Fact]
    public async Task Kerberos_MissingKeytab_FailsWithVaultsWords_BeforeAnyKerberosExchange()
    {
        await File.WriteAllTextAsync(PathOf("krb5.conf"), "[libdefaults]\n default_realm = EXAMPLE.COM\n");

        var request = await Method().PrepareLoginAsync(null!, CancellationToken.None);

        Assert.StartsWith($"couldn't load keytab: open {PathOf("svc.keytab")}: ", request.Error, StringComparison.Ordinal);
        Assert.Null(request.LoginPath);
    }

    [Fact]
    public async Task Kerberos_MissingKrb5Conf_FailsWithVaultsWords()
    {
        await File.WriteAllBytesAsync(PathOf("svc.keytab"), [5, 2]);

        var request = await Method().PrepareLoginAsync(null!, CancellationToken.None);

        Assert.StartsWith($"couldn't parse krb5Conf: open {PathOf("krb5.conf")}: ", request.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kerberos_KeytabPathIsADirectory_IsSaidSo()
    {
        Directory.CreateDirectory(PathOf("svc.keytab"));

        var request = await Method().PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Equal($"couldn't load keytab: {PathOf("svc.keytab")} is a directory", request.Error);
    }

    [Fact]
    public void Kerberos_LoginWithHeaders_IsAPutToMountLoginWithAnEmptyBody_AndNeverPrintsTheHeader()
    {
        var request = LoginRequest.LoginWithHeaders("auth/kerberos/", new Dictionary<string, string> { ["Authorization"] = "Negotiate c2VjcmV0" });

        Assert.Equal("auth/kerberos/login", request.LoginPath);
        Assert.Empty(request.Body!);
        Assert.Equal("Negotiate c2VjcmV0", request.Headers!["Authorization"]);
        Assert.DoesNotContain("c2VjcmV0", request.ToString(), StringComparison.Ordinal);
    }
}
