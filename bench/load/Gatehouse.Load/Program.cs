using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using Gatehouse.DevVault;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

// Starts DevVault as its own process for bench/load/run.sh and cases.sh (so its CPU is not Gatehouse's), seeds the secret the
// benchmark reads and an approle (role "dev"; role_id and secret_id files in <workdir>) for the cache-hit case,
// prints "ready <address>", and serves until the process is signalled. DEVVAULT_BACKLOG=<n> sets its listen backlog
// (bench/load/overload.sh: a Vault on a host whose somaxconn is 128).
// "static <port> <file>": the .NET floor for a cache hit. A bare Kestrel (the same host shape as Gatehouse's: an empty
// builder, Kestrel core, one terminal handler, no logging) answering every request with the file's bytes from memory
// as application/json. Whatever this costs per request on this machine, a Gatehouse hit costs at least as much.
if (args is ["static", var staticPort, var file])
{
    var body = await File.ReadAllBytesAsync(file);
    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, int.Parse(staticPort, System.Globalization.CultureInfo.InvariantCulture)));
    await using var app = builder.Build();
    app.Run(async context =>
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.BodyWriter.WriteAsync(body, context.RequestAborted);
    });
    await app.StartAsync();
    Console.WriteLine($"ready http://127.0.0.1:{staticPort}/");
    await app.WaitForShutdownAsync();
    return 0;
}

if (args is not ["devvault", var port, var workDirectory])
{
    await Console.Error.WriteLineAsync("usage: gatehouse-load devvault <port> <workdir> | static <port> <file>");
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
