using BenchmarkDotNet.Attributes;
using Gatehouse.Hcl;

namespace Gatehouse.Benchmarks;

/// <summary>Parse cost of a realistic Vault Proxy config: what every start and every SIGHUP reload pays.</summary>
[MemoryDiagnoser]
public class HclParseBenchmarks
{
    private readonly byte[] _utf8 = System.Text.Encoding.UTF8.GetBytes(RealisticConfig.ProxyHcl);

    [Benchmark(Baseline = true)]
    public HclObject ParseText() => HclParser.Parse(RealisticConfig.ProxyHcl, "proxy.hcl");

    [Benchmark]
    public HclObject ParseBytes() => HclFile.Parse(_utf8, "proxy.hcl");
}
