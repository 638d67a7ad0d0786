using System.Collections.Immutable;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
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
        Assert.True(MethodSettings.TryParseDuration(text, out var value));
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
            new AuthMethodConfig { Type = "aws" }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("unknown auth method \"aws\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AppRole_WithoutRoleIdFilePath_IsRejected()
    {
        var error = Assert.Throws<AutoAuthConfigException>(() => AuthMethodFactory.Create(new GatehouseConfig(),
            new AuthMethodConfig { Type = "approle" }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("missing 'role_id_file_path' value", error.Message, StringComparison.Ordinal);
    }

    private static ConfigMap Map(params (string Key, HclNode Value)[] values) =>
        new(values.ToImmutableDictionary(v => v.Key, v => v.Value), default);
}
