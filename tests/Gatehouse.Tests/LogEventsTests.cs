using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests;

public sealed class LogEventsTests
{
    private static readonly BindingFlags All =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    [Fact]
    public void EveryLoggerMessage_HasItsOwnEventId_FromTheLogEventsTable()
    {
        var events = typeof(LogEvents).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(All))
            .Select(method => (Method: $"{method.DeclaringType!.FullName}.{method.Name}", Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Attribute is not null)
            .ToList();
        var table = typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (int)f.GetRawConstantValue()!).ToList();

        Assert.NotEmpty(events);
        var shared = events.GroupBy(e => e.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}");
        Assert.Empty(shared);
        Assert.Equal(table.Count, table.Distinct().Count());
        Assert.Equal(table.Order(), events.Select(e => e.Attribute!.EventId).Order());
    }
}
