using BenchmarkDotNet.Attributes;
using Gatehouse.DevVault;

namespace Gatehouse.Benchmarks;

/// <summary>
/// DevVault's GET secret throughput over loopback HTTP, 32 concurrent clients, so the load benchmark can show that
/// DevVault is never the bottleneck (it must serve at least twice Gatehouse's pass-through rate).
/// Run with: dotnet run -c Release --project bench/Gatehouse.Benchmarks -- --filter '*DevVault*'
/// </summary>
[MemoryDiagnoser]
public class DevVaultBenchmarks
{
    private const int Concurrency = 32;
    private const int RequestsPerClient = 16;
    private DevVaultServer? _server;
    private HttpClient? _http;

    [GlobalSetup]
    public void Setup()
    {
        _server = DevVaultServer.StartAsync(new DevVaultOptions()).GetAwaiter().GetResult();
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency * 2 }) { BaseAddress = _server.Address };
        _http.DefaultRequestHeaders.Add("X-Vault-Token", _server.RootToken);
        using var content = new StringContent("{\"data\":{\"message\":\"hello from DevVault\"}}");
        _http.PostAsync(new Uri("/v1/secret/data/hello", UriKind.Relative), content).GetAwaiter().GetResult().EnsureSuccessStatusCode();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _http?.Dispose();
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = Concurrency * RequestsPerClient)]
    public Task GetSecret_32ConcurrentClients() => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => ClientAsync()));

    private async Task ClientAsync()
    {
        for (var i = 0; i < RequestsPerClient; i++)
        {
            using var response = await _http!.GetAsync(new Uri("/v1/secret/data/hello", UriKind.Relative)).ConfigureAwait(false);
            await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        }
    }
}
