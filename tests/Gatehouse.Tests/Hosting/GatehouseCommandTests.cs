using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class GatehouseCommandTests
{
    [Fact]
    public async Task Version_PrintsVersionAndExitsZero()
    {
        var stdout = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["version"], stdout, new StringWriter(), CancellationToken.None);
        Assert.Equal(0, code);
        Assert.Equal($"Gatehouse v{GatehouseCommand.Version}", stdout.ToString().Trim());
        Assert.StartsWith("0.", GatehouseCommand.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_PrintsUsageAndExitsOne()
    {
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["frobnicate"], new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("Usage: gatehouse", stderr.ToString(), StringComparison.Ordinal);
    }
}
