using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Hosting.Logging;

public sealed partial class LoggingTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 3, 31, 59, 123, TimeSpan.Zero));

    [LoggerMessage(Level = LogLevel.Information, Message = "authentication successful, sending token to {SinkCount} sinks")]
    private static partial void AuthSucceeded(ILogger logger, int sinkCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "received request: {Method} {Path}")]
    private static partial void Received(ILogger logger, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "error authenticating")]
    private static partial void AuthFailed(ILogger logger, Exception exception);

    private (ILoggerFactory Factory, StringWriter Console) Create(LogFormat format, LogLevelSwitch levelSwitch, LoggingSettings? settings = null)
    {
        var console = new StringWriter { NewLine = "\n" };
        var factory = LoggerFactory.Create(b => b.AddGatehouseLogging(
            (settings ?? new LoggingSettings()) with { Format = format, Level = levelSwitch.Minimum }, levelSwitch, console, _time));
        return (factory, console);
    }

    [Fact]
    public void Standard_Line_HasHclogShape()
    {
        var (factory, console) = Create(LogFormat.Standard, new LogLevelSwitch());
        using (factory)
        {
            var logger = factory.CreateLogger("Gatehouse.AutoAuth.AuthHandler");
            var error = new InvalidOperationException("permission \"denied\"");
            AuthSucceeded(logger, 2);
            AuthFailed(logger, error);
        }

        Assert.Equal(
            "2026-11-30T03:31:59.123Z [INFO]  proxy.auth.handler: authentication successful, sending token to 2 sinks\n"
            + "2026-11-30T03:31:59.123Z [ERROR] proxy.auth.handler: error authenticating: error=\"InvalidOperationException: permission \\\"denied\\\"\"\n",
            console.ToString());
    }

    [Theory]
    [InlineData(LogLevel.Trace, "[TRACE] ")]
    [InlineData(LogLevel.Debug, "[DEBUG] ")]
    [InlineData(LogLevel.Information, "[INFO]  ")]
    [InlineData(LogLevel.Warning, "[WARN]  ")]
    [InlineData(LogLevel.Error, "[ERROR] ")]
    [InlineData(LogLevel.Critical, "[ERROR] ")]
    public void Standard_Labels_AreHclogs(LogLevel level, string label)
    {
        string line = LogFormatter.Format(LogFormat.Standard, _time.GetUtcNow(), level, "c", "m");
        Assert.Equal($"2026-11-30T03:31:59.123Z {label}c: m\n", line);
    }

    [Fact]
    public void Standard_MessageWithNewline_StaysOneLine()
    {
        string line = LogFormatter.Format(LogFormat.Standard, _time.GetUtcNow(), LogLevel.Information, "c", "a\nforged [ERROR] line");
        Assert.Equal("2026-11-30T03:31:59.123Z [INFO]  c: a\\nforged [ERROR] line\n", line);
    }

    [Fact]
    public void Json_Line_HasHclogKeysAndStructuredValues()
    {
        var (factory, console) = Create(LogFormat.Json, new LogLevelSwitch());
        using (factory)
        {
            var logger = factory.CreateLogger("Gatehouse.AutoAuth.AuthHandler");
            var error = new InvalidOperationException("boom");
            AuthSucceeded(logger, 2);
            AuthFailed(logger, error);
        }

        Assert.Equal(
            """{"@level":"info","@message":"authentication successful, sending token to 2 sinks","@module":"proxy.auth.handler","@timestamp":"2026-11-30T03:31:59.123000Z","sink_count":2}""" + "\n"
            + """{"@level":"error","@message":"error authenticating","@module":"proxy.auth.handler","@timestamp":"2026-11-30T03:31:59.123000Z","error":"InvalidOperationException: boom"}""" + "\n",
            console.ToString());
    }

    [Fact]
    public void LevelSwitch_ChangesLevelWithoutRebuildingLoggers()
    {
        var levelSwitch = new LogLevelSwitch(LogLevel.Information);
        var (factory, console) = Create(LogFormat.Standard, levelSwitch);
        using (factory)
        {
            var logger = factory.CreateLogger("Gatehouse.ApiProxy.ProxyHandler");
            Received(logger, "GET", "/v1/one");
            levelSwitch.Minimum = LogLevel.Debug;
            Received(logger, "GET", "/v1/two");
            levelSwitch.Minimum = LogLevel.Error;
            AuthSucceeded(logger, 1);
        }

        Assert.Equal("2026-11-30T03:31:59.123Z [DEBUG] proxy.apiproxy: received request: GET /v1/two\n", console.ToString());
    }

    [Fact]
    public void LevelSwitch_RequestUrlCategories_StayAtWarningEvenAtTrace()
    {
        // They print full URLs (query strings, auth/token/lookup/<token>); Gatehouse's own Debug line replaces them.
        var levelSwitch = new LogLevelSwitch(LogLevel.Trace);
        Assert.False(levelSwitch.IsEnabled("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information));
        Assert.False(levelSwitch.IsEnabled("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Information));
        Assert.True(levelSwitch.IsEnabled("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Warning));
    }

    [Fact]
    public void LevelSwitch_FrameworkCategories_StayAtWarningUnlessTrace()
    {
        var levelSwitch = new LogLevelSwitch(LogLevel.Debug);
        Assert.False(levelSwitch.IsEnabled("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information));
        Assert.True(levelSwitch.IsEnabled("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning));
        Assert.True(levelSwitch.IsEnabled("Gatehouse.Cache.LeaseCache", LogLevel.Debug));
        Assert.False(levelSwitch.IsEnabled("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Information));
        levelSwitch.Minimum = LogLevel.Trace;
        Assert.True(levelSwitch.IsEnabled("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Debug));
        Assert.True(levelSwitch.IsEnabled("Yarp.ReverseProxy.Health", LogLevel.Information));
        levelSwitch.Minimum = LogLevel.Error;
        Assert.False(levelSwitch.IsEnabled("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning));
    }

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("DEBUG", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("notice", LogLevel.Information)]
    [InlineData(" warn ", LogLevel.Warning)]
    [InlineData("warning", LogLevel.Warning)]
    [InlineData("err", LogLevel.Error)]
    [InlineData("error", LogLevel.Error)]
    public void VaultLogLevel_ParsesVaultNames(string text, LogLevel expected)
    {
        Assert.True(VaultLogLevel.TryParse(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("")]
    [InlineData("critical")]
    public void VaultLogLevel_RejectsOthers(string text) => Assert.False(VaultLogLevel.TryParse(text, out _));

    [Fact]
    public void Settings_OnlyMap_TheRulesAreTheValidators()
    {
        // LoggingSettings has no rules of its own: every log_* problem is the validator's, reported with its place.
        var problems = new List<ConfigDiagnostic>();
        ConfigValidator.Validate(new GatehouseConfig { LogLevel = "loud", LogFormat = "xml", LogRotateBytes = -1, LogRotateMaxFiles = -2 }, problems);

        Assert.Equal(
            ["log_level: unknown log level: loud; use trace, debug, info, warn or error", "log_format: unknown log format: xml; use standard or json",
             "log_rotate_bytes: log_rotate_bytes must not be negative; use 0 for no size limit",
             "log_rotate_max_files: log_rotate_max_files must be -1 (keep no rotated files), 0 (keep all) or a positive count"],
            problems.Where(p => p.Path.StartsWith("log_", StringComparison.Ordinal)).Select(p => $"{p.Path}: {p.Message}"));
    }

    [Theory]
    [InlineData(" DEBUG ", "JSON", LogLevel.Debug, true)]
    [InlineData("Warning", " json", LogLevel.Warning, true)]
    [InlineData("", "", LogLevel.Information, false)]
    [InlineData(null, "Standard", LogLevel.Information, false)]
    public void Settings_FromConfig_ReadLevelAndFormatAsTheValidatorAcceptsThem(string? level, string? format, LogLevel expectedLevel, bool json)
    {
        var config = new GatehouseConfig { LogLevel = level, LogFormat = format };
        var problems = new List<ConfigDiagnostic>();
        ConfigValidator.Validate(config, problems);

        var settings = LoggingSettings.From(config, "proxy");

        Assert.DoesNotContain(problems, p => p.Path.StartsWith("log_", StringComparison.Ordinal));
        Assert.Equal(expectedLevel, settings.Level);
        Assert.Equal(json ? LogFormat.Json : LogFormat.Standard, settings.Format);
    }

    [Fact]
    public void Settings_FromConfig_AppliesDefaultsAndNaming()
    {
        var settings = LoggingSettings.From(
            new GatehouseConfig { LogLevel = "debug", LogFormat = "json", LogFile = "/var/log/gatehouse/", LogRotateMaxFiles = -1 },
            "proxy");

        Assert.Equal(LogLevel.Debug, settings.Level);
        Assert.Equal(LogFormat.Json, settings.Format);
        Assert.Equal("/var/log/gatehouse/proxy.log", settings.FilePath);
        Assert.Equal(TimeSpan.FromHours(24), settings.RotateDuration);
        Assert.Equal(-1, settings.RotateMaxFiles);
        Assert.Equal(0, settings.RotateBytes);
    }
}
