using BenchmarkDotNet.Running;

namespace Gatehouse.Benchmarks;

// Run with: dotnet run -c Release --project bench/Gatehouse.Benchmarks -- --filter '*'
// Bytes per cached token entry (a measured program, not BenchmarkDotNet): ... -- entry-bytes [entries] [runs]
internal static class BenchmarkProgram
{
    public static void Main(string[] args)
    {
        if (args is ["entry-bytes", .. var rest])
        {
            CacheEntryMemory.Run(rest);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
    }
}
