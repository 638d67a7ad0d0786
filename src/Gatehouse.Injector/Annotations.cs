using Gatehouse.GoCompat;

namespace Gatehouse.Injector;

internal enum ListenerKind { Tcp, Unix }

internal enum AuthMethodKind { Kubernetes, AppRole }

/// <summary>What one pod asked for, every default filled in: the input of the config generator and the patcher.</summary>
internal sealed record InjectionSpec
{
    public required string VaultAddress { get; init; }
    public string? VaultNamespace { get; init; }
    public string? CaCert { get; init; }
    public string? TlsSecret { get; init; }
    public required AuthMethodKind AuthMethod { get; init; }
    public required string AuthPath { get; init; }
    public string? Role { get; init; }
    public string? AppRoleSecret { get; init; }
    public string? TokenAudience { get; init; }
    public required ListenerKind Listener { get; init; }
    public required bool Cache { get; init; }
    /// <summary>api_proxy.use_auto_auth_token as Vault spells it: <c>true</c>, <c>false</c> or <c>force</c>.</summary>
    public required string UseAutoAuthToken { get; init; }
    public required string Image { get; init; }
    public required bool NativeSidecar { get; init; }
    public required bool InitFirst { get; init; }
    public required IReadOnlyDictionary<string, string> Requests { get; init; }
    public required IReadOnlyDictionary<string, string> Limits { get; init; }
}

/// <summary>
/// The <c>gatehouse.dev/</c> annotations: their names, and the reading of a pod's annotations into an
/// <see cref="InjectionSpec"/> or the list of every problem (a pod with any problem is refused, as vault-k8s refuses
/// it, so a typo is seen at <c>kubectl apply</c> rather than as a pod that cannot reach Vault).
/// </summary>
internal static class Annotations
{
    public const string Prefix = "gatehouse.dev/";
    public const string Inject = Prefix + "inject";
    public const string Status = Prefix + "agent-inject-status";
    public const string Config = Prefix + "agent-config";
    public const string Role = Prefix + "role";
    public const string AuthPath = Prefix + "auth-path";
    public const string AuthMethod = Prefix + "auth-method";
    public const string AppRoleSecret = Prefix + "approle-secret";
    public const string TokenAudience = Prefix + "token-audience";
    public const string Listener = Prefix + "listener";
    public const string VaultAddress = Prefix + "vault-address";
    public const string Namespace = Prefix + "namespace";
    public const string CaCert = Prefix + "ca-cert";
    public const string TlsSecret = Prefix + "tls-secret";
    public const string Cache = Prefix + "cache";
    public const string UseAutoAuthToken = Prefix + "use-auto-auth-token";
    public const string Image = Prefix + "image";
    public const string Sidecar = Prefix + "sidecar";
    public const string InitFirst = Prefix + "init-first";
    public const string RequestsCpu = Prefix + "requests-cpu";
    public const string RequestsMem = Prefix + "requests-mem";
    public const string LimitsCpu = Prefix + "limits-cpu";
    public const string LimitsMem = Prefix + "limits-mem";

    /// <summary>The value <see cref="Status"/> has once the injector has mutated a pod.</summary>
    public const string Injected = "injected";

    private static readonly HashSet<string> Known =
    [
        Inject, Status, Config, Role, AuthPath, AuthMethod, AppRoleSecret, TokenAudience, Listener, VaultAddress,
        Namespace, CaCert, TlsSecret, Cache, UseAutoAuthToken, Image, Sidecar, InitFirst, RequestsCpu, RequestsMem,
        LimitsCpu, LimitsMem,
    ];

    /// <summary>
    /// Reads <see cref="Inject"/>: null when the pod does not ask (absent or false), true when it does; a value that
    /// is not a boolean (Go's spellings, as vault-k8s's parseutil.ParseBool) is a problem.
    /// </summary>
    public static bool? WantsInjection(IReadOnlyDictionary<string, string> annotations, out string? problem)
    {
        problem = null;
        if (!annotations.TryGetValue(Inject, out var raw))
            return null;
        if (!GoFormat.TryParseBool(raw.Trim(), out var inject))
        {
            problem = $"annotation {Inject}: \"{raw}\" is not a boolean (use \"true\" or \"false\")";
            return null;
        }

        return inject ? true : null;
    }

    public static InjectionSpec? Read(IReadOnlyDictionary<string, string> annotations, InjectorOptions defaults, List<string> problems)
    {
        string? Get(string name) => annotations.TryGetValue(name, out var v) ? v.Trim() : null;

        foreach (var key in annotations.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal) && !Known.Contains(k)).Order(StringComparer.Ordinal))
            problems.Add($"annotation {key} is not a Gatehouse annotation (known: {string.Join(", ", Known.Order(StringComparer.Ordinal).Select(k => k[Prefix.Length..]))})");

        bool Bool(string name, bool fallback)
        {
            if (Get(name) is not { } raw)
                return fallback;
            if (GoFormat.TryParseBool(raw, out var value))
                return value;
            problems.Add($"annotation {name}: \"{raw}\" is not a boolean (use \"true\" or \"false\")");
            return fallback;
        }

        string? NonEmpty(string name)
        {
            var value = Get(name);
            if (value is "")
                problems.Add($"annotation {name} is empty");
            return value is "" ? null : value;
        }

        var authMethod = Get(AuthMethod) switch
        {
            null or "kubernetes" => AuthMethodKind.Kubernetes,
            "approle" => AuthMethodKind.AppRole,
            var other => Problem(AuthMethodKind.Kubernetes, $"annotation {AuthMethod}: \"{other}\" is not supported (use \"kubernetes\" or \"approle\")"),
        };

        var role = NonEmpty(Role);
        var appRoleSecret = NonEmpty(AppRoleSecret);
        if (authMethod == AuthMethodKind.Kubernetes && role is null)
            problems.Add($"annotation {Role} is required: the Vault role of the kubernetes auth method");
        if (authMethod == AuthMethodKind.AppRole)
        {
            if (appRoleSecret is null)
                problems.Add($"annotation {AppRoleSecret} is required with {AuthMethod}: approle: a Secret in the pod's namespace with the keys role-id and secret-id");
            else if (!KubernetesName.IsValid(appRoleSecret))
                problems.Add($"annotation {AppRoleSecret}: \"{appRoleSecret}\" is not a valid Secret name");
        }

        var listener = Get(Listener) switch
        {
            null or "tcp" => ListenerKind.Tcp,
            "unix" => ListenerKind.Unix,
            var other => Problem(ListenerKind.Tcp, $"annotation {Listener}: \"{other}\" is not supported (use \"tcp\" for 127.0.0.1:8100 or \"unix\" for a socket shared through an emptyDir)"),
        };

        var vaultAddress = NonEmpty(VaultAddress) ?? defaults.VaultAddress;
        if (vaultAddress is null)
            problems.Add($"annotation {VaultAddress} is required: the injector has no default Vault address (-vault-address)");

        var useAutoAuthToken = Get(UseAutoAuthToken) switch
        {
            null => "true",
            "force" => "force",
            var raw when GoFormat.TryParseBool(raw, out var on) => on ? "true" : "false",
            var other => Problem("true", $"annotation {UseAutoAuthToken}: \"{other}\" is not supported (use \"true\", \"false\" or \"force\")"),
        };

        var sidecar = Get(Sidecar) switch
        {
            null or "native" => true,
            "classic" => false,
            var other => Problem(true, $"annotation {Sidecar}: \"{other}\" is not supported (use \"native\" for an init container with restartPolicy: Always, Kubernetes 1.29+, or \"classic\")"),
        };

        var tlsSecret = NonEmpty(TlsSecret);
        if (tlsSecret is not null && !KubernetesName.IsValid(tlsSecret))
            problems.Add($"annotation {TlsSecret}: \"{tlsSecret}\" is not a valid Secret name");
        var caCert = NonEmpty(CaCert);
        if (caCert is not null && !caCert.StartsWith('/'))
            problems.Add($"annotation {CaCert}: \"{caCert}\" must be an absolute path in the sidecar (with {TlsSecret}, a file under {PodPatcher.TlsMountPath}/)");

        var image = NonEmpty(Image) ?? defaults.Image;
        var authPath = NonEmpty(AuthPath) ?? (authMethod == AuthMethodKind.AppRole ? "auth/approle" : defaults.AuthPath);

        Dictionary<string, string> Resources(string cpuName, string? cpuDefault, string memName, string? memDefault)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (resource, name, fallback) in new[] { ("cpu", cpuName, cpuDefault), ("memory", memName, memDefault) })
            {
                var value = Get(name) ?? fallback;
                if (value is null or "")
                    continue;
                if (Quantity.IsValid(value))
                    result[resource] = value;
                else
                    problems.Add($"annotation {name}: \"{value}\" is not a Kubernetes quantity (e.g. 250m, 128Mi)");
            }

            return result;
        }

        var requests = Resources(RequestsCpu, defaults.RequestsCpu, RequestsMem, defaults.RequestsMem);
        var limits = Resources(LimitsCpu, defaults.LimitsCpu, LimitsMem, defaults.LimitsMem);
        var cache = Bool(Cache, false);
        var initFirst = Bool(InitFirst, true);

        if (problems.Count > 0)
            return null;

        return new InjectionSpec
        {
            VaultAddress = vaultAddress!,
            VaultNamespace = NonEmpty(Namespace),
            CaCert = caCert,
            TlsSecret = tlsSecret,
            AuthMethod = authMethod,
            AuthPath = authPath,
            Role = role,
            AppRoleSecret = appRoleSecret,
            TokenAudience = NonEmpty(TokenAudience) ?? defaults.TokenAudience,
            Listener = listener,
            Cache = cache,
            UseAutoAuthToken = useAutoAuthToken,
            Image = image,
            NativeSidecar = sidecar,
            InitFirst = initFirst,
            Requests = requests,
            Limits = limits,
        };

        T Problem<T>(T fallback, string message)
        {
            problems.Add(message);
            return fallback;
        }
    }
}
