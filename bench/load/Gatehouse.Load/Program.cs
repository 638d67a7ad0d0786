using System.Net.Http.Json;
using System.Runtime.InteropServices;
using Gatehouse.DevVault;

// Starts DevVault as its own process for bench/load/run.sh and cases.sh (so its CPU is not Gatehouse's), seeds the secret the
// benchmark reads and an approle (role "dev"; role_id and secret_id files in <workdir>) for the cache-hit case,
// prints "ready <address>", and serves until the process is signalled. DEVVAULT_BACKLOG=<n> sets its listen backlog
// (bench/load/overload.sh: a Vault on a host whose somaxconn is 128).
if (args is not ["devvault", var port, var workDirectory])
{
    await Console.Error.WriteLineAsync("usage: gatehouse-load devvault <port> <workdir>");
    return 2;
}

int? backlog = int.TryParse(Environment.GetEnvironmentVariable("DEVVAULT_BACKLOG"), out var n) ? n : null;
await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions { ListenAddress = $"127.0.0.1:{port}", RootTokenId = "root", ListenBacklog = backlog });
using (var client = new HttpClient { BaseAddress = vault.Address })
{
    client.DefaultRequestHeaders.Add("X-Vault-Token", vault.RootToken);
    using var write = await client.PutAsJsonAsync("/v1/secret/data/bench", new { data = new { username = "bench", password = "correct horse battery staple" } });
    write.EnsureSuccessStatusCode();
}

await DevScenario.SetUpAsync(vault, workDirectory, CancellationToken.None);

Console.WriteLine($"ready {vault.Address}");
using var stop = new CancellationTokenSource();

// SIGTERM (run.sh's cleanup) and SIGINT end the wait; the handler only cancels, off the signal thread, so Main can
// dispose DevVault and return. (Cancelling inline from AppDomain.ProcessExit ran the whole shutdown inside the
// exit handler and hung the process.)
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    _ = Task.Run(stop.Cancel);
}

using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
