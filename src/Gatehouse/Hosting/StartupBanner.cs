using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The startup output, shaped like Vault's: the configuration block (keys sorted and right-aligned to column 24,
/// title-cased) and then the "started" line. Written to stdout before log lines begin; in JSON mode as JSON lines.
/// </summary>
internal static class StartupBanner
{
    private const int Padding = 24;

    /// <param name="product">"Proxy" or "Agent".</param>
    /// <param name="apiAddresses">One per listener, in configuration order: http://…, https://… or unix://….</param>
    /// <param name="logLevel">Vault's name: trace, debug, info, warn, error.</param>
    public static string Render(string product, IReadOnlyList<string> apiAddresses, string logLevel, string version)
    {
        var info = Info(apiAddresses, logLevel, version);
        var text = new StringBuilder();
        text.Append("==> Gatehouse ").Append(product).Append(" configuration:\n\n");
        foreach (var (key, value) in info)
        {
            text.Append(' ', Math.Max(Padding - key.Length, 0)).Append(TitleCase(key)).Append(": ").Append(value).Append('\n');
        }

        text.Append('\n');
        text.Append("==> Gatehouse ").Append(product).Append(" started! Log data will stream in below:\n\n");
        return text.ToString();
    }

    /// <summary>
    /// The banner in JSON mode, so that every line of a run parses: two hclog JSON lines under the root module,
    /// <c>Gatehouse Proxy configuration</c> with each entry as a key (<c>api_address_1</c>, <c>log_level</c>,
    /// <c>version</c>) and <c>Gatehouse Proxy started! Log data will stream in below</c>.
    /// </summary>
    public static string RenderJson(
        string product, IReadOnlyList<string> apiAddresses, string logLevel, string version, DateTimeOffset now, string module)
    {
        var fields = Info(apiAddresses, logLevel, version).Select(kv => (kv.Key.Replace(' ', '_'), (object?)kv.Value)).ToList();
        return LogFormatter.Format(LogFormat.Json, now, LogLevel.Information, module, $"Gatehouse {product} configuration", fields)
            + LogFormatter.Format(LogFormat.Json, now, LogLevel.Information, module, $"Gatehouse {product} started! Log data will stream in below");
    }

    private static SortedDictionary<string, string> Info(IReadOnlyList<string> apiAddresses, string logLevel, string version)
    {
        var info = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["log level"] = logLevel,
            ["version"] = $"Gatehouse v{version}",
        };
        for (int i = 0; i < apiAddresses.Count; i++)
        {
            info[$"api address {i + 1}"] = apiAddresses[i];
        }

        return info;
    }

    private static string TitleCase(string key) =>
        string.Join(' ', key.Split(' ').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));
}
