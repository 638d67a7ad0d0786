using Gatehouse.Hosting;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Hosting;

public sealed class GatehouseCommandTests
{
    [Fact]
    public async Task Version_PrintsVersionAndExitsZero()
    {
        var stdout = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["version"], stdout, new StringWriter(), CancellationToken.None);
        Assert.Equal(0, code);
        Assert.Equal($"Gatehouse v{ProductInfo.Version}", stdout.ToString().Trim());
        Assert.StartsWith("0.", ProductInfo.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_PrintsUsageAndExitsOne()
    {
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["frobnicate"], new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("Usage: gatehouse", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnexpectedException_IsOneLineOnStderr_AndExitOne_NeverAStackTrace()
    {
        // `gatehouse validate ... | head -0`: stdout is closed before the JSON is written.
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(
            ["validate", $"-config={Path.Combine(SamplesDirectory, "seed.hcl")}"], new BrokenPipe(), stderr, _ => null, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Equal("Error: IOException: Broken pipe" + Environment.NewLine, stderr.ToString());
    }

    private sealed class BrokenPipe : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => throw new IOException("Broken pipe");

        public override void Write(string? value) => throw new IOException("Broken pipe");
    }
}
