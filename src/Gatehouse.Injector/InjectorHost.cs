using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Injector;

/// <summary>The webhook's HTTPS host: <c>POST /mutate</c> and <c>GET /healthz</c> on Kestrel.</summary>
internal static partial class InjectorHost
{
    /// <summary>The largest AdmissionReview read: the API server stores objects up to about 1.5 MiB, and a review carries one.</summary>
    public const long MaxReviewBytes = 4L * 1024 * 1024;

    public static WebApplication Build(InjectorOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is null)
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        else
            logging(builder.Logging);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<AdmissionHandler>();
        builder.Services.AddSingleton(sp => new CertificateFiles(options.TlsCertFile!, options.TlsKeyFile!, sp.GetRequiredService<ILogger<CertificateFiles>>()));

        var endpoint = IPEndPoint.Parse(options.Listen);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxReviewBytes;
            kestrel.Listen(endpoint, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificateSelector = (_, _) => kestrel.ApplicationServices.GetRequiredService<CertificateFiles>().Current,
            }));
        });

        var app = builder.Build();
        app.MapPost("/mutate", async (HttpContext context, AdmissionHandler handler) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var (status, answer) = handler.Review(body.GetBuffer().AsSpan(0, (int)body.Length));
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
        });
        app.MapGet("/healthz", (CertificateFiles certificates) =>
            certificates.Current is null ? Results.Text("no serving certificate\n", statusCode: 503) : Results.Text("ok\n"));
        return app;
    }
}
