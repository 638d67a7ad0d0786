using BenchmarkDotNet.Attributes;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Benchmarks;

/// <summary>
/// Parse + bind + validate of a realistic ~100-line Vault Proxy config: the whole cost of reading configuration at
/// start-up and on every SIGHUP reload.
/// </summary>
[MemoryDiagnoser]
public class ConfigBenchmarks
{
    private readonly HclObject _tree = HclParser.Parse(RealisticConfig.ProxyHcl, "proxy.hcl");

    [GlobalSetup]
    public void CheckTheConfigIsValid()
    {
        var result = ConfigLoader.FromTree(_tree, "proxy.hcl");
        if (!result.Succeeded)
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
    }

    [Benchmark(Baseline = true)]
    public bool ParseBindValidate() => ConfigLoader.FromTree(HclParser.Parse(RealisticConfig.ProxyHcl, "proxy.hcl"), "proxy.hcl").Succeeded;

    [Benchmark]
    public bool BindValidate() => ConfigLoader.FromTree(_tree, "proxy.hcl").Succeeded;
}
