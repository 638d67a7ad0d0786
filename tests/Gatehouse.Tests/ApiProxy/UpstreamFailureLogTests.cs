using Gatehouse.ApiProxy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.ApiProxy;

public sealed class UpstreamFailureLogTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<UpstreamFailureLog> _logger = new();

    private static readonly ProxyFailure Refused = new(ProxyFailureKind.UpstreamUnreachable, "cannot reach Vault at http://vault:8200: Connection refused");
    private static readonly ProxyFailure Reset = new(ProxyFailureKind.UpstreamFailed, "the request to Vault at http://vault:8200 failed: Connection reset by peer");

    private string[] Lines => [.. _logger.Collector.GetSnapshot().Select(r => $"{r.Level}: {r.Message}")];

    [Fact]
    public void ManyFailuresInOneInterval_AreOneLineAtOnce_AndOneCountAtItsEnd()
    {
        using var log = new UpstreamFailureLog(_logger, _time);

        for (var i = 0; i < 10_934; i++)
        {
            log.Report(Refused);
        }

        Assert.Equal(
            ["Warning: 502 cannot reach Vault at http://vault:8200: Connection refused (further failures of this kind are counted and logged every 5s)"],
            Lines);

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(
            "Warning: 502 cannot reach Vault: 10933 more requests in the last 5s; the latest: cannot reach Vault at http://vault:8200: Connection refused",
            Lines[^1]);
        Assert.Equal(2, Lines.Length);
    }

    [Fact]
    public void EachKind_HasItsOwnWindow()
    {
        using var log = new UpstreamFailureLog(_logger, _time);

        log.Report(Refused);
        log.Report(Reset);
        log.Report(Reset);
        log.Report(Refused);

        Assert.Equal(2, Lines.Length);
        Assert.StartsWith("Warning: 502 the request to Vault at http://vault:8200 failed", Lines[1], StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Contains("Warning: 502 cannot reach Vault: 1 more requests in the last 5s; the latest: cannot reach Vault at http://vault:8200: Connection refused", Lines);
        Assert.Contains("Warning: 502 the request to Vault failed: 1 more requests in the last 5s; the latest: the request to Vault at http://vault:8200 failed: Connection reset by peer", Lines);
    }

    [Fact]
    public void AQuietInterval_ClosesTheWindow_SoTheNextFailureIsLoggedAtOnce()
    {
        using var log = new UpstreamFailureLog(_logger, _time);

        log.Report(Refused);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(Lines); // nothing was counted: no second line

        log.Report(Refused);
        Assert.Equal(2, Lines.Length);
        Assert.Equal(Lines[0], Lines[1]);
    }

    [Theory]
    [InlineData(nameof(ProxyFailureKind.ClientCanceled))]
    [InlineData(nameof(ProxyFailureKind.BadRequest))]
    [InlineData(nameof(ProxyFailureKind.RequestTooLarge))]
    [InlineData(nameof(ProxyFailureKind.TokenUnavailable))]
    public void ClientSideFailures_AreNotLoggedHere(string kind)
    {
        using var log = new UpstreamFailureLog(_logger, _time);

        log.Report(new ProxyFailure(Enum.Parse<ProxyFailureKind>(kind), "whatever"));

        Assert.Empty(Lines);
    }

    [Fact]
    public void AboveWarning_NothingIsCountedOrLogged()
    {
        _logger.ControlLevel(LogLevel.Warning, enabled: false);
        using var log = new UpstreamFailureLog(_logger, _time);

        log.Report(Refused);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(Lines);
    }
}
