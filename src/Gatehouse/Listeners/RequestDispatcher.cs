using Gatehouse.ApiProxy;
using Gatehouse.Cache;
using Gatehouse.Configuration;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Listeners;

/// <summary>
/// The terminal middleware of every listener: a handful of exact-path checks for the built-in endpoints, the listener's
/// role and request-header rule, then the API proxy. No routing tables on the hot path.
/// </summary>
internal sealed partial class RequestDispatcher
{
    private const string AgentPrefix = "/agent/v1/";
    private const string ProxyPrefix = "/proxy/v1/";
    private static readonly byte[] NotFoundBody = "404 page not found\n"u8.ToArray();

    private readonly ProxyHandler _proxy;
    private readonly MetricsEndpoint _metrics;
    private readonly HealthEndpoint _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly long _serverMaxRequestSize;
    private readonly CacheClearEndpoint? _cacheClear;
    private readonly ILogger<RequestDispatcher> _logger;

    public RequestDispatcher(
        ProxyHandler proxy, MetricsEndpoint metrics, HealthEndpoint health, IHostApplicationLifetime lifetime, GatehouseConfig config, ILogger<RequestDispatcher> logger,
        CacheClearEndpoint? cacheClear = null)
    {
        _cacheClear = cacheClear;
        _proxy = proxy;
        _metrics = metrics;
        _health = health;
        _lifetime = lifetime;
        _serverMaxRequestSize = config.Listeners.Count == 0 ? Defaults.MaxRequestSize : config.Listeners.Max(l => l.EffectiveMaxRequestSize);
        _logger = logger;
    }

    public Task HandleAsync(HttpContext context)
    {
        var listener = context.Features.Get<ListenerFeature>();
        var path = context.Request.Path.Value ?? "";
        var builtIn = BuiltIn(path);

        if (listener?.Config.Role == ListenerRole.MetricsOnly)
        {
            return builtIn switch
            {
                Endpoint.Metrics => _metrics.HandleAsync(context),
                Endpoint.Health => _health.HandleAsync(context),
                _ => NotFoundAsync(context),
            };
        }

        switch (builtIn)
        {
            case Endpoint.Metrics:
                return _metrics.HandleAsync(context);
            case Endpoint.Health:
                return _health.HandleAsync(context);
            case Endpoint.Quit:
                return QuitAsync(context, listener);
            case Endpoint.CacheClear:
                // No cache: nothing to clear; Vault answers 200 with an empty body for any method.
                return _cacheClear is null ? Task.CompletedTask : _cacheClear.HandleAsync(context);
        }

        if (listener is not null)
        {
            if (listener.Config.RequireRequestHeader && !HasRequestHeader(context.Request.Headers))
            {
                return ProxyErrorWriter.WriteErrorAsync(context, StatusCodes.Status412PreconditionFailed, $"missing \"{VaultHeaders.Request}\" header");
            }

            if (context.Request.ContentLength > listener.MaxRequestSize)
            {
                return ProxyErrorWriter.WriteErrorAsync(
                    context,
                    StatusCodes.Status413PayloadTooLarge,
                    $"request body is larger than this listener's max_request_size ({listener.MaxRequestSize} bytes)");
            }

            if (listener.MaxRequestSize != _serverMaxRequestSize && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = listener.MaxRequestSize;
            }
        }

        return _proxy.HandleAsync(context, listener?.Index ?? 0);
    }

    private enum Endpoint
    {
        None,
        Metrics,
        Health,
        Quit,
        CacheClear,
    }

    private static Endpoint BuiltIn(string path)
    {
        ReadOnlySpan<char> rest;
        if (path.StartsWith(AgentPrefix, StringComparison.Ordinal))
        {
            rest = path.AsSpan(AgentPrefix.Length);
        }
        else if (path.StartsWith(ProxyPrefix, StringComparison.Ordinal))
        {
            rest = path.AsSpan(ProxyPrefix.Length);
        }
        else
        {
            return Endpoint.None;
        }

        return rest switch
        {
            "metrics" => Endpoint.Metrics,
            "health" => Endpoint.Health,
            "quit" => Endpoint.Quit,
            "cache-clear" => Endpoint.CacheClear,
            _ => Endpoint.None,
        };
    }

    /// <summary>Exactly one X-Vault-Request header whose value is exactly "true", as Vault requires.</summary>
    private static bool HasRequestHeader(IHeaderDictionary headers)
    {
        var values = headers[VaultHeaders.Request];
        return values.Count == 1 && values[0] == "true";
    }

    private Task QuitAsync(HttpContext context, ListenerFeature? listener)
    {
        if (listener?.Config.EnableQuit != true)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        // The 200 goes out first; the graceful stop then drains the other requests. A second POST is harmless.
        Log.QuitRequested(_logger, listener.Index);
        context.Response.OnCompleted(() =>
        {
            _lifetime.StopApplication();
            return Task.CompletedTask;
        });
        return Task.CompletedTask;
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = NotFoundBody.Length;
        return context.Response.Body.WriteAsync(NotFoundBody, context.RequestAborted).AsTask();
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.RequestDispatcherQuitRequested, LogLevel.Information, "Quit requested on listener {Listener}; stopping")]
        public static partial void QuitRequested(ILogger logger, int listener);
    }
}
