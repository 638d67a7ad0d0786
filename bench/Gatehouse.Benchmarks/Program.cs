using BenchmarkDotNet.Running;

namespace Gatehouse.Benchmarks;

// Run with: dotnet run -c Release --project bench/Gatehouse.Benchmarks -- --filter '*'
internal static class BenchmarkProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
