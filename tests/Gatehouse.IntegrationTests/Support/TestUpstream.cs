using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// A tiny Kestrel upstream on a loopback ephemeral port whose behaviour each test sets with <see cref="Handler"/>.
/// Stands in for Vault where a test needs a precise answer (a 503 then a 200, a Retry-After, a slow reply).
/// </summary>
internal sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private TestUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>What the upstream does with each request. The default echoes method, path, query, headers and body.</summary>
    public Func<HttpContext, Task> Handler { get; set; } = EchoAsync;

    public static async Task<TestUpstream> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        TestUpstream? upstream = null;
        app.Run(context =>
        {
            Interlocked.Increment(ref upstream!._requests);
            return upstream.Handler(context);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        upstream = new TestUpstream(app, new Uri(address).Port);
        return upstream;
    }

    /// <summary>Echo as JSON-free text: "METHOD path?query" then "name: value" lines, then a blank line and the body.</summary>
    public static async Task EchoAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var head = new System.Text.StringBuilder();
        head.Append(context.Request.Method).Append(' ').Append(context.Request.Path.ToUriComponent()).Append(context.Request.QueryString.Value).Append('\n');
        foreach (var header in context.Request.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            head.Append(header.Key.ToLowerInvariant()).Append(": ").Append(header.Value.ToString()).Append('\n');
        }

        context.Response.Headers["X-Echo-Head"] = Uri.EscapeDataString(head.ToString());
        context.Response.ContentType = "application/octet-stream";
        await context.Response.Body.WriteAsync(body.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
