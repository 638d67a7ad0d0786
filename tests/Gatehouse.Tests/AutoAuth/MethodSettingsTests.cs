using System.Collections.Immutable;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.GoCompat;
using Gatehouse.Hcl;
using Gatehouse.Sinks;

namespace Gatehouse.Tests.AutoAuth;

public sealed class MethodSettingsTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("1m30s", 90)]
    [InlineData("500ms", 0.5)]
    [InlineData("1h", 3600)]
    [InlineData("45", 45)]
    public void MethodSettings_Duration_ReadsGoDurationsAndSeconds(string text, double seconds)
    {
        Assert.True(GoFormat.TryParseDurationSecond(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Fact]
    public void MethodSettings_StringOctalMode_IsReadAsOctal()
    {
        var settings = new MethodSettings(Map(("mode", new HclString("0600", default))), "sink");
        Assert.Equal(384, settings.GetInt64("mode"));
    }

    [Fact]
    public void SinkFactory_WithoutPath_SaysWhatIsMissing()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => SinkFactory.Create(new SinkConfig { Type = "file" }, null!));
        Assert.Contains("'path' not specified for file sink", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthMethodFactory_UnknownType_NamesTheSupportedOnes()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(),
            new AuthMethodConfig { Type = "carrier-pigeon" }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("unknown auth method \"carrier-pigeon\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AppRole_WithoutRoleIdFilePath_IsRejected()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(),
            new AuthMethodConfig { Type = "approle" }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("missing 'role_id_file_path' value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factories_ApplyTheValidationRules_ReportingEveryProblemAtOnce()
    {
        var method = new AuthMethodConfig
        {
            Type = "jwt",
            Config = Map(("path", new HclString("/jwt", default)), ("jwt_read_period", new HclString("-1s", new SourcePosition("agent.hcl", 7, 9)))),
        };
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(), method,
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("missing 'role' value", error.Message, StringComparison.Ordinal);
        Assert.Contains("agent.hcl:7:9: auto_auth.method \"jwt\".config.jwt_read_period: jwt_read_period must be positive", error.Message, StringComparison.Ordinal);

        var sink = new SinkConfig { Type = "file", Aad = "x", Config = Map(("path", new HclString("/t", default)), ("mode", new HclNumber("4095", 4095, 4095, default))) };
        var sinkError = Assert.Throws<AutoAuthConfigException>(() => SinkFactory.Create(sink, null!));
        Assert.Contains("file mode does not represent a regular file", sinkError.Message, StringComparison.Ordinal);
        Assert.Contains("specifying AAD data without 'dh_type'", sinkError.Message, StringComparison.Ordinal);
    }

    private static ConfigMap Map(params (string Key, HclNode Value)[] values) =>
        new(values.ToImmutableDictionary(v => v.Key, v => v.Value), default);
}
