using System.Collections.Immutable;
using System.Globalization;
using System.Threading.Channels;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

public sealed class JwtMethodTests : IDisposable
{
    private readonly TempDirectory _dir = new("gatehouse-jwt-");
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    private string PathOf(string name) => Path.Combine(_dir, name);

    private JwtMethod Method(params (string Key, object Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("path", new HclString(PathOf("jwt"), default))
            .Add("role", new HclString("app", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, value switch
            {
                bool b => new HclBool(b, default),
                _ => (HclNode)new HclString(Convert.ToString(value, CultureInfo.InvariantCulture)!, default),
            });
        }

        return new JwtMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"jwt\""), "auth/jwt", _time, NullLogger.Instance);
    }

    private static async Task<string?> LoginJwtAsync(JwtMethod method)
    {
        var request = await method.PrepareLoginAsync(null!, CancellationToken.None);
        return request.Body?["jwt"];
    }

    [Fact]
    public async Task Jwt_ReadPeriodTicker_TakesAndRemovesTheFileBetweenLogins()
    {
        var method = Method(("jwt_read_period", "10s"));
        Assert.Equal(TimeSpan.FromSeconds(10), method.ReadPeriod);
        var waits = Channel.CreateUnbounded<bool>();
        method.TickerWaiting += () => waits.Writer.TryWrite(true);
        using var stop = new CancellationTokenSource();
        var ticker = method.RunAsync(stop.Token);
        await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        await File.WriteAllTextAsync(PathOf("jwt"), "jwt-one");
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(File.Exists(PathOf("jwt")), "not read before the period");
        _time.Advance(TimeSpan.FromSeconds(1));
        await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(PathOf("jwt")), "the ticker read and removed the file");

        // The login uses the JWT the ticker took; a later file replaces it at the next tick.
        Assert.Equal("jwt-one", await LoginJwtAsync(method));
        await File.WriteAllTextAsync(PathOf("jwt"), "jwt-two");
        _time.Advance(TimeSpan.FromSeconds(10));
        await waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(PathOf("jwt")));
        Assert.Equal("jwt-two", await LoginJwtAsync(method));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ticker);
    }

    [Fact]
    public void Jwt_ReadPeriodDefaults_AreVaults()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), Method().ReadPeriod);
        Assert.Equal(TimeSpan.FromMinutes(1), Method(("remove_jwt_after_reading", false)).ReadPeriod);
    }

    [Fact]
    public async Task Jwt_SymlinkToTheJwt_ByDefaultOnlyTheLinkIsRemoved()
    {
        await File.WriteAllTextAsync(PathOf("real-jwt"), "jwt-linked");
        File.CreateSymbolicLink(PathOf("jwt"), PathOf("real-jwt"));

        Assert.Equal("jwt-linked", await LoginJwtAsync(Method()));
        Assert.False(Path.Exists(PathOf("jwt")), "the link is removed");
        Assert.True(File.Exists(PathOf("real-jwt")), "the target stays");
    }

    [Fact]
    public async Task Jwt_SymlinkToTheJwt_WithFollowSymlinks_RemovesTheTarget()
    {
        await File.WriteAllTextAsync(PathOf("real-jwt"), "jwt-linked");
        File.CreateSymbolicLink(PathOf("jwt"), PathOf("real-jwt"));

        Assert.Equal("jwt-linked", await LoginJwtAsync(Method(("remove_jwt_follows_symlinks", true))));
        Assert.False(File.Exists(PathOf("real-jwt")), "the target is removed");
        Assert.NotNull(new FileInfo(PathOf("jwt")).LinkTarget);
    }
}
