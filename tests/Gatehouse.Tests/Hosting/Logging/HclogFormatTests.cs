using System.Reflection;
using System.Text.Json;
using Gatehouse.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Hosting.Logging;

/// <summary>
/// The rules of go-hclog's writer (intlogger.go logPlain/logJSON) as Gatehouse applies them: module names like Vault's,
/// values as Go prints them, hclog's quoting, and the trailing <c>key={Value}</c> pairs of a template as fields.
/// </summary>
public sealed partial class HclogFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, 0, TimeSpan.Zero);

    [LoggerMessage(Level = LogLevel.Information, Message = "authentication successful: ttl={Ttl} renewable={Renewable} path={Path}")]
    private static partial void Authenticated(ILogger logger, TimeSpan ttl, bool renewable, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "token lasts {Ttl}, renew after {Delay}")]
    private static partial void Inline(ILogger logger, TimeSpan ttl, TimeSpan delay);

    private static (string Standard, string Json) Both(Action<ILogger> log, string category = "Gatehouse.AutoAuth.AuthHandler", string mode = "proxy")
    {
        string Run(LogFormat format)
        {
            var console = new StringWriter { NewLine = "\n" };
            var levelSwitch = new LogLevelSwitch(LogLevel.Trace);
            var settings = new LoggingSettings { Format = format, Root = mode };
            using (var factory = LoggerFactory.Create(b => b.AddGatehouseLogging(settings, levelSwitch, console, new FakeTimeProvider(Now))))
            {
                log(factory.CreateLogger(category));
            }

            return console.ToString();
        }

        return (Run(LogFormat.Standard), Run(LogFormat.Json));
    }

    [Fact]
    public void TrailingPairs_AreHclogFields_WithGoDurationsAndLowercaseBooleans()
    {
        var hour = TimeSpan.FromHours(1);
        var (standard, json) = Both(l => Authenticated(l, hour, true, "/run/gatehouse/a token"));

        Assert.Equal(
            "2026-12-07T10:00:00.000Z [INFO]  proxy.auth.handler: authentication successful: ttl=1h0m0s renewable=true path=\"/run/gatehouse/a token\"\n",
            standard);
        Assert.Equal(
            """{"@level":"info","@message":"authentication successful","@module":"proxy.auth.handler","@timestamp":"2026-12-07T10:00:00.000000Z","path":"/run/gatehouse/a token","renewable":true,"ttl":"1h0m0s"}""" + "\n",
            json);
    }

    [Fact]
    public void Placeholders_InTheMessage_AreWrittenAsGoWritesThem_AndKeptAsSnakeCaseKeysInJson()
    {
        var (ttl, delay) = (TimeSpan.FromMilliseconds(1500), TimeSpan.FromMilliseconds(250));
        var (standard, json) = Both(l => Inline(l, ttl, delay), "Gatehouse.Cache.LeaseCache", "agent");

        Assert.Equal("2026-12-07T10:00:00.000Z [WARN]  agent.cache.leasecache: token lasts 1.5s, renew after 250ms\n", standard);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("token lasts 1.5s, renew after 250ms", doc.RootElement.GetProperty("@message").GetString());
        Assert.Equal("1.5s", doc.RootElement.GetProperty("ttl").GetString());
        Assert.Equal("250ms", doc.RootElement.GetProperty("delay").GetString());
    }

    [Theory]
    [InlineData("plain-value/with:colons", "plain-value/with:colons")]
    [InlineData("", "\"\"")]
    [InlineData("two words", "\"two words\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("a\\b", "a\\b")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("line\nbreak", "\"line\\nbreak\"")]
    [InlineData("bell\u0007", "\"bell\\x07\"")]
    [InlineData("comma,here", "\"comma,here\"")]
    [InlineData("naïve", "\"naïve\"")]
    public void FieldValues_AreQuotedAsHclogQuotesThem(string value, string written)
    {
        string line = LogFormatter.Format(LogFormat.Standard, Now, LogLevel.Information, "proxy", "m", [("k", value)]);
        Assert.Equal($"2026-12-07T10:00:00.000Z [INFO]  proxy: m: k={written}\n", line);
    }

    [Fact]
    public void Values_AreGoTexts()
    {
        Assert.Equal("1h0m0s", LogFormatter.GoText(TimeSpan.FromHours(1)));
        Assert.Equal("768h0m0s", LogFormatter.GoText(TimeSpan.FromDays(32)));
        Assert.Equal("0s", LogFormatter.GoText(TimeSpan.Zero));
        Assert.Equal("false", LogFormatter.GoText(false));
        Assert.Equal("<nil>", LogFormatter.GoText(null));
        Assert.Equal("2.5", LogFormatter.GoText(2.5));
    }

    [Fact]
    public void Json_NoModule_NoKey_AndGoEscapesHtmlCharacters()
    {
        string line = LogFormatter.Format(LogFormat.Json, Now, LogLevel.Error, "", "a <b> & c", [("n", 3)]);
        Assert.Equal("""{"@level":"error","@message":"a \u003cb\u003e \u0026 c","@timestamp":"2026-12-07T10:00:00.000000Z","n":3}""" + "\n", line);
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("a <b> & c", doc.RootElement.GetProperty("@message").GetString());
    }

    [Theory]
    [InlineData("Gatehouse.AutoAuth.AuthHandler", "proxy", "proxy.auth.handler")]
    [InlineData("Gatehouse.AutoAuth.Methods.AppRoleMethod", "agent", "agent.auth.approle")]
    [InlineData("Gatehouse.Sinks.SinkWriter", "proxy", "proxy.sink.file")]
    [InlineData("Gatehouse.Sinks.SinkServer", "proxy", "proxy.sink.server")]
    [InlineData("Gatehouse.ApiProxy.ProxyHandler", "proxy", "proxy.apiproxy")]
    [InlineData("Gatehouse.Cache.LeaseCache", "proxy", "proxy.cache.leasecache")]
    [InlineData("Gatehouse.Cache.Persistence.CachePersistence", "proxy", "proxy.cache")]
    [InlineData("Gatehouse.Hosting.GatehouseHost", "agent", "agent")]
    [InlineData("Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServer", "proxy", "proxy.listener")]
    [InlineData("Some.Library.Type", "proxy", "proxy.Some.Library.Type")]
    public void Modules_AreVaults(string category, string root, string module) =>
        Assert.Equal(module, LogModules.For(category, root));

    /// <summary>
    /// Every class that declares [LoggerMessage] methods logs under a category the table names, so that no line falls
    /// back to a .NET type name. A class that logs through another's category is listed here with that category.
    /// </summary>
    [Fact]
    public void Modules_EveryGatehouseCategoryHasARow()
    {
        var loggingTypes = typeof(LogModules).Assembly.GetTypes()
            .Where(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly)
                .Any(m => m.GetCustomAttribute<LoggerMessageAttribute>() is not null))
            .Select(t => t.Name == "Log" && t.DeclaringType is { } outer ? outer : t)
            .Select(t => t.FullName!)
            .Distinct()
            .ToList();
        Assert.NotEmpty(loggingTypes);

        var throughOthers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Logs with ILogger<GatehouseHost> (the start-up and stop lines).
            ["Gatehouse.Hosting.GatehouseHostBuilder"] = "Gatehouse.Hosting.GatehouseHost",
            // Given the logger of its owner.
            ["Gatehouse.Cache.Persistence.CacheStoreFile"] = "Gatehouse.Cache.Persistence.CachePersistence",
            ["Gatehouse.AutoAuth.VaultRecovery"] = "Gatehouse.AutoAuth.AuthHandler",
        };
        var missing = loggingTypes
            .Select(t => throughOthers.GetValueOrDefault(t, t))
            .Where(t => !LogModules.Categories.ContainsKey(t))
            .ToList();
        Assert.True(missing.Count == 0, "no LogModules row for: " + string.Join(", ", missing));
    }
}
