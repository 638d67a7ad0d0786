using System.Globalization;
using Gatehouse.GoCompat;

namespace Gatehouse.Injector;

/// <summary>
/// The injector's own settings: where it serves, its certificate, and the defaults for what a pod's annotations do
/// not say. Each comes from a flag (<c>-vault-address=https://vault:8200</c>, one or two dashes) or else from the
/// environment (<c>GATEHOUSE_INJECTOR_VAULT_ADDRESS</c>), or else the default here.
/// </summary>
internal sealed record InjectorOptions
{
    public const string DefaultImage = "gatehouse:0.1.0";

    public string Listen { get; init; } = "0.0.0.0:8443";
    public string? TlsCertFile { get; init; }
    public string? TlsKeyFile { get; init; }

    /// <summary>The Vault address a pod gets when it has no <c>gatehouse.dev/vault-address</c>.</summary>
    public string? VaultAddress { get; init; }
    public string Image { get; init; } = DefaultImage;
    public string AuthPath { get; init; } = "auth/kubernetes";
    /// <summary>The audience of the projected service-account token; null leaves the API server's default.</summary>
    public string? TokenAudience { get; init; }
    public long TokenExpirationSeconds { get; init; } = 3600;
    /// <summary>The image's user (<c>app</c>, 1654 in the .NET chiseled images) as a number, so runAsNonRoot can be verified.</summary>
    public long RunAsUser { get; init; } = 1654;
    public long RunAsGroup { get; init; } = 1654;
    /// <summary>The cache's max_bytes when a pod turns the cache on: sized to fit the default memory limit.</summary>
    public long CacheMaxBytes { get; init; } = 32L * 1024 * 1024;
    public string RequestsCpu { get; init; } = "20m";
    public string RequestsMem { get; init; } = "64Mi";
    public string? LimitsCpu { get; init; }
    public string LimitsMem { get; init; } = "128Mi";

    public const string Help = """
        Usage: gatehouse-injector -tls-cert-file=PATH -tls-key-file=PATH [options]

        Serves the mutating admission webhook POST /mutate (AdmissionReview admission.k8s.io/v1) and GET /healthz
        over HTTPS. The certificate and key files are read again when they change (cert-manager rotation).

        Options (each also read from GATEHOUSE_INJECTOR_<NAME>, e.g. GATEHOUSE_INJECTOR_VAULT_ADDRESS):
          -listen=ADDR                 host:port to serve on (default 0.0.0.0:8443)
          -tls-cert-file=PATH          PEM certificate (chain) of the webhook
          -tls-key-file=PATH           PEM private key of the webhook
          -vault-address=URL           Vault address for pods without gatehouse.dev/vault-address
          -image=IMAGE                 Gatehouse image for pods without gatehouse.dev/image (default gatehouse:0.1.0)
          -auth-path=PATH              auth mount for pods without gatehouse.dev/auth-path (default auth/kubernetes)
          -token-audience=AUD          audience of the projected service-account token (default: the API server's)
          -token-expiration-seconds=N  lifetime of the projected token (default 3600, at least 600)
          -run-as-user=UID             the sidecar's user (default 1654, the image's "app")
          -run-as-group=GID            the sidecar's group (default 1654)
          -cache-max-bytes=N           the cache's max_bytes when gatehouse.dev/cache is on (default 33554432)
          -requests-cpu, -requests-mem, -limits-cpu, -limits-mem
                                       the sidecar's default resources (20m, 64Mi, none, 128Mi)
        """;

    private static readonly string[] Names =
    [
        "listen", "tls-cert-file", "tls-key-file", "vault-address", "image", "auth-path", "token-audience",
        "token-expiration-seconds", "run-as-user", "run-as-group", "cache-max-bytes", "requests-cpu", "requests-mem",
        "limits-cpu", "limits-mem",
    ];

    /// <summary>Reads the flags, then the environment; null and a message when something is wrong.</summary>
    private static readonly HashSet<string> NameSet = [.. Names];

    private static readonly HashSet<string> EmptyFlags = [];

    public static InjectorOptions? Parse(IReadOnlyList<string> args, Func<string, string?> environment, out string error)
    {
        error = "";
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Names)
        {
            if (environment("GATEHOUSE_INJECTOR_" + name.Replace('-', '_').ToUpperInvariant()) is { Length: > 0 } fromEnv)
                values[name] = fromEnv;
        }

        var flagError = GoFlags.Parse(
            args, EmptyFlags, NameSet,
            (_, _) => null,
            (name, value) =>
            {
                values[name] = value;
                return null;
            },
            arg => $"unexpected argument \"{arg}\"");
        if (flagError is not null)
        {
            error = flagError;
            return null;
        }

        var options = new InjectorOptions();
        string? Get(string name) => values.TryGetValue(name, out var v) ? v : null;
        long? Number(string name, long min, ref string problem)
        {
            if (Get(name) is not { } text)
                return null;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min)
                return n;
            problem = $"-{name}: \"{text}\" is not a whole number of at least {min}";
            return null;
        }

        var numberProblem = "";
        options = options with
        {
            Listen = Get("listen") ?? options.Listen,
            TlsCertFile = Get("tls-cert-file"),
            TlsKeyFile = Get("tls-key-file"),
            VaultAddress = Get("vault-address"),
            Image = Get("image") ?? options.Image,
            AuthPath = Get("auth-path") ?? options.AuthPath,
            TokenAudience = Get("token-audience"),
            TokenExpirationSeconds = Number("token-expiration-seconds", 600, ref numberProblem) ?? options.TokenExpirationSeconds,
            RunAsUser = Number("run-as-user", 1, ref numberProblem) ?? options.RunAsUser,
            RunAsGroup = Number("run-as-group", 0, ref numberProblem) ?? options.RunAsGroup,
            CacheMaxBytes = Number("cache-max-bytes", 1, ref numberProblem) ?? options.CacheMaxBytes,
            RequestsCpu = Get("requests-cpu") ?? options.RequestsCpu,
            RequestsMem = Get("requests-mem") ?? options.RequestsMem,
            LimitsCpu = Get("limits-cpu"),
            LimitsMem = Get("limits-mem") ?? options.LimitsMem,
        };

        if (numberProblem.Length > 0)
            error = numberProblem;
        else if (options.TlsCertFile is null || options.TlsKeyFile is null)
            error = "-tls-cert-file and -tls-key-file are required (the API server calls webhooks over HTTPS only)";
        else if (!System.Net.IPEndPoint.TryParse(options.Listen, out var endpoint) || endpoint.Port == 0)
            error = $"-listen: \"{options.Listen}\" is not host:port with a numeric host";
        else
        {
            foreach (var (name, value) in new[] { ("requests-cpu", options.RequestsCpu), ("requests-mem", options.RequestsMem), ("limits-cpu", options.LimitsCpu), ("limits-mem", options.LimitsMem) })
            {
                if (value is not null && !Quantity.IsValid(value))
                {
                    error = $"-{name}: \"{value}\" is not a Kubernetes quantity";
                    break;
                }
            }
        }

        return error.Length == 0 ? options : null;
    }
}
