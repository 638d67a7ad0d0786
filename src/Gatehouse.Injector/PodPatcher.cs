using System.Text.Json.Nodes;

namespace Gatehouse.Injector;

/// <summary>
/// The RFC 6902 JSON Patch that turns an application pod into one with a Gatehouse sidecar:
/// <list type="bullet">
/// <item>annotations: the status (<c>injected</c>, so a second call leaves the pod alone) and the generated config;</item>
/// <item>volumes: the config (downward API from that annotation), a projected service-account token with its own
/// audience, a small memory <c>/tmp</c>, and for <c>unix</c> the emptyDir that shares the socket, plus the Secrets
/// an annotation names;</item>
/// <item>the sidecar: a native sidecar (init container with <c>restartPolicy: Always</c>, first by default so the
/// pod's own init containers can use Vault too) or a classic one (last of <c>containers</c>);</item>
/// <item>each application container (and each init container that runs after the sidecar): <c>VAULT_ADDR</c> pointing
/// at the sidecar unless it sets one, and the socket volume for <c>unix</c>.</item>
/// </list>
/// Edits to existing containers come before the insertion, so their indexes are the ones the API server sent.
/// </summary>
internal static class PodPatcher
{
    public const string ContainerName = "gatehouse-proxy";
    public const string ConfigVolume = "gatehouse-config";
    public const string TokenVolume = "gatehouse-token";
    public const string TmpVolume = "gatehouse-tmp";
    public const string RunVolume = "gatehouse-run";
    public const string TlsVolume = "gatehouse-tls";
    public const string AppRoleVolume = "gatehouse-approle";

    public const string ConfigMountPath = "/gatehouse/config";
    public const string ConfigFile = ConfigMountPath + "/config.json";
    public const string TokenMountPath = "/var/run/secrets/gatehouse.dev/serviceaccount";
    public const string RunMountPath = "/gatehouse/run";
    public const string SocketPath = RunMountPath + "/vault.sock";
    public const string TlsMountPath = "/gatehouse/tls";
    public const string AppRoleMountPath = "/gatehouse/approle";

    public static string VaultAddrFor(ListenerKind listener) =>
        listener == ListenerKind.Unix ? "unix://" + SocketPath : "http://" + ProxyConfigGenerator.TcpListenerAddress;

    /// <summary>The patch, or null with the reason added to <paramref name="problems"/> (names the pod already uses).</summary>
    public static JsonArray? Build(JsonObject pod, InjectionSpec spec, string configText, InjectorOptions options, List<string> problems)
    {
        var spec_ = pod["spec"] as JsonObject ?? new JsonObject();
        var volumes = spec_["volumes"] as JsonArray;
        var containers = spec_["containers"] as JsonArray ?? [];
        var initContainers = spec_["initContainers"] as JsonArray;

        var newVolumes = Volumes(spec, options);
        var taken = (volumes ?? []).Select(v => v?["name"]?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        foreach (var clash in newVolumes.Select(v => v!["name"]!.GetValue<string>()).Where(taken.Contains))
            problems.Add($"the pod already has a volume named \"{clash}\"; the injector needs that name");
        if (containers.Concat(initContainers ?? []).Any(c => c?["name"]?.GetValue<string>() == ContainerName))
            problems.Add($"the pod already has a container named \"{ContainerName}\"; the injector needs that name");
        if (problems.Count > 0)
            return null;

        var patch = new JsonArray();
        void Add(string path, JsonNode? value) => patch.Add(new JsonObject { ["op"] = "add", ["path"] = path, ["value"] = value });

        // Annotations: the pod has some, since gatehouse.dev/inject is one of them.
        Add("/metadata/annotations/" + Escape(Annotations.Status), Annotations.Injected);
        Add("/metadata/annotations/" + Escape(Annotations.Config), configText);

        if (volumes is null)
            Add("/spec/volumes", new JsonArray([.. newVolumes]));
        else
            foreach (var volume in newVolumes)
                Add("/spec/volumes/-", volume);

        var vaultAddr = VaultAddrFor(spec.Listener);
        for (var i = 0; i < containers.Count; i++)
            AppContainer(containers[i] as JsonObject, $"/spec/containers/{i}", spec, vaultAddr, Add);

        var sidecar = Sidecar(spec, options);
        if (spec.NativeSidecar)
        {
            if (spec.InitFirst && initContainers is not null)
            {
                // These run after the sidecar has started, so they can use Vault as the app does.
                for (var i = 0; i < initContainers.Count; i++)
                    AppContainer(initContainers[i] as JsonObject, $"/spec/initContainers/{i}", spec, vaultAddr, Add);
            }

            if (initContainers is null)
                Add("/spec/initContainers", new JsonArray(sidecar));
            else
                Add(spec.InitFirst ? "/spec/initContainers/0" : "/spec/initContainers/-", sidecar);
        }
        else
        {
            Add("/spec/containers/-", sidecar);
        }

        return patch;
    }

    private static void AppContainer(JsonObject? container, string path, InjectionSpec spec, string vaultAddr, Action<string, JsonNode?> add)
    {
        if (container is null)
            return;

        var env = container["env"] as JsonArray;
        if (env?.Any(e => e?["name"]?.GetValue<string>() == "VAULT_ADDR") != true)
        {
            var variable = new JsonObject { ["name"] = "VAULT_ADDR", ["value"] = vaultAddr };
            if (env is null)
                add(path + "/env", new JsonArray(variable));
            else
                add(path + "/env/-", variable);
        }

        if (spec.Listener != ListenerKind.Unix)
            return;
        var mounts = container["volumeMounts"] as JsonArray;
        if (mounts?.Any(m => m?["mountPath"]?.GetValue<string>() == RunMountPath) == true)
            return;
        // Read-only is enough to connect to a socket; only the sidecar creates files there.
        var mount = new JsonObject { ["name"] = RunVolume, ["mountPath"] = RunMountPath, ["readOnly"] = true };
        if (mounts is null)
            add(path + "/volumeMounts", new JsonArray(mount));
        else
            add(path + "/volumeMounts/-", mount);
    }

    private static List<JsonNode> Volumes(InjectionSpec spec, InjectorOptions options)
    {
        var volumes = new List<JsonNode>
        {
            new JsonObject
            {
                ["name"] = ConfigVolume,
                ["downwardAPI"] = new JsonObject
                {
                    ["items"] = new JsonArray(new JsonObject
                    {
                        ["path"] = "config.json",
                        ["fieldRef"] = new JsonObject { ["fieldPath"] = $"metadata.annotations['{Annotations.Config}']" },
                    }),
                },
            },
            new JsonObject { ["name"] = TmpVolume, ["emptyDir"] = new JsonObject { ["medium"] = "Memory", ["sizeLimit"] = "16Mi" } },
        };

        if (spec.AuthMethod == AuthMethodKind.Kubernetes)
        {
            var token = new JsonObject { ["path"] = "token", ["expirationSeconds"] = options.TokenExpirationSeconds };
            if (spec.TokenAudience is not null)
                token["audience"] = spec.TokenAudience;
            volumes.Add(new JsonObject
            {
                ["name"] = TokenVolume,
                ["projected"] = new JsonObject { ["sources"] = new JsonArray(new JsonObject { ["serviceAccountToken"] = token }) },
            });
        }
        else
        {
            volumes.Add(new JsonObject { ["name"] = AppRoleVolume, ["secret"] = new JsonObject { ["secretName"] = spec.AppRoleSecret } });
        }

        if (spec.Listener == ListenerKind.Unix)
            volumes.Add(new JsonObject { ["name"] = RunVolume, ["emptyDir"] = new JsonObject { ["medium"] = "Memory", ["sizeLimit"] = "1Mi" } });
        if (spec.TlsSecret is not null)
            volumes.Add(new JsonObject { ["name"] = TlsVolume, ["secret"] = new JsonObject { ["secretName"] = spec.TlsSecret } });
        return volumes;
    }

    private static JsonObject Sidecar(InjectionSpec spec, InjectorOptions options)
    {
        var mounts = new JsonArray
        {
            new JsonObject { ["name"] = ConfigVolume, ["mountPath"] = ConfigMountPath, ["readOnly"] = true },
            new JsonObject { ["name"] = TmpVolume, ["mountPath"] = "/tmp" },
        };
        if (spec.AuthMethod == AuthMethodKind.Kubernetes)
            mounts.Add(new JsonObject { ["name"] = TokenVolume, ["mountPath"] = TokenMountPath, ["readOnly"] = true });
        else
            mounts.Add(new JsonObject { ["name"] = AppRoleVolume, ["mountPath"] = AppRoleMountPath, ["readOnly"] = true });
        if (spec.Listener == ListenerKind.Unix)
            mounts.Add(new JsonObject { ["name"] = RunVolume, ["mountPath"] = RunMountPath });
        if (spec.TlsSecret is not null)
            mounts.Add(new JsonObject { ["name"] = TlsVolume, ["mountPath"] = TlsMountPath, ["readOnly"] = true });

        var resources = new JsonObject();
        if (spec.Requests.Count > 0)
            resources["requests"] = Map(spec.Requests);
        if (spec.Limits.Count > 0)
            resources["limits"] = Map(spec.Limits);

        var container = new JsonObject
        {
            ["name"] = ContainerName,
            ["image"] = spec.Image,
            ["args"] = new JsonArray("proxy", "-config=" + ConfigFile),
            ["resources"] = resources,
            ["securityContext"] = new JsonObject
            {
                ["runAsNonRoot"] = true,
                ["runAsUser"] = options.RunAsUser,
                ["runAsGroup"] = options.RunAsGroup,
                ["allowPrivilegeEscalation"] = false,
                ["readOnlyRootFilesystem"] = true,
                ["capabilities"] = new JsonObject { ["drop"] = new JsonArray("ALL") },
                ["seccompProfile"] = new JsonObject { ["type"] = "RuntimeDefault" },
            },
            ["volumeMounts"] = mounts,
        };
        // `gatehouse health` needs no shell and asks the sidecar's own listener (kubelet cannot reach 127.0.0.1 or the
        // socket with an httpGet probe). With a native sidecar the startup probe holds the app back until Gatehouse
        // has its first token, so the app's first request to Vault does not wait or fail.
        var address = "-address=" + (spec.Listener == ListenerKind.Unix ? "unix://" + SocketPath : "http://" + ProxyConfigGenerator.TcpListenerAddress);
        container["startupProbe"] = ExecProbe(["/usr/local/bin/gatehouse", "health", address], periodSeconds: 1, failureThreshold: 120);
        container["readinessProbe"] = ExecProbe(["/usr/local/bin/gatehouse", "health", address], periodSeconds: 10, failureThreshold: 3);
        container["livenessProbe"] = ExecProbe(["/usr/local/bin/gatehouse", "health", address, "-probe=live"], periodSeconds: 10, failureThreshold: 3);
        if (spec.NativeSidecar)
            container["restartPolicy"] = "Always";
        return container;
    }

    private static JsonObject ExecProbe(string[] command, int periodSeconds, int failureThreshold) => new()
    {
        ["exec"] = new JsonObject { ["command"] = new JsonArray([.. command.Select(c => (JsonNode)c)]) },
        ["periodSeconds"] = periodSeconds,
        ["failureThreshold"] = failureThreshold,
        ["timeoutSeconds"] = 5,
    };

    private static JsonObject Map(IReadOnlyDictionary<string, string> values)
    {
        var map = new JsonObject();
        foreach (var (key, value) in values)
            map[key] = value;
        return map;
    }

    /// <summary>RFC 6901: <c>~</c> becomes <c>~0</c>, <c>/</c> becomes <c>~1</c>.</summary>
    public static string Escape(string segment) => segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
