using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using static Gatehouse.Tests.Packaging.HelmRender;

namespace Gatehouse.Tests.Packaging;

/// <summary>
/// packaging/helm/gatehouse rendered for each shape (native sidecar, classic sidecar, shared Deployment, DaemonSet on
/// a hostPath unix socket) by tests/helm-render, and the fields that matter checked in every document: the kinds, the
/// probes' paths and port, the hardened securityContext, volumes and the socket's path, and the ConfigMap's HCL loaded
/// and validated by Gatehouse's own <see cref="ConfigLoader"/> (listeners and the probe port, the cache bounds against
/// the memory limit).
/// </summary>
public sealed class HelmChartTests
{
    private const string DaemonSetOnSocket = """
        mode: daemonset
        daemonset:
          unixSocket:
            enabled: true
        autoAuth:
          enabled: true
          method: approle
          secretRef: gatehouse-approle
        vault:
          caSecret: vault-ca
        metrics:
          serviceMonitor: {enabled: true}
          podMonitor: {enabled: true}
        """;

    private static string[] Kinds(IReadOnlyList<Document> docs) => [.. docs.Select(d => d.Kind).Order(StringComparer.Ordinal)];

    private static JsonObject PodSpec(Document workload) => workload.Object["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject[] Containers(JsonObject pod, string list) =>
        pod[list] is JsonArray array ? [.. array.Select(c => c!.AsObject())] : [];

    private static JsonObject Gatehouse(JsonObject pod) =>
        Assert.Single(Containers(pod, "initContainers").Concat(Containers(pod, "containers")), c => (string?)c["name"] == "gatehouse");

    private static Document Single(IReadOnlyList<Document> docs, string kind) => Assert.Single(docs, d => d.Kind == kind);

    /// <summary>The ConfigMap's gatehouse.hcl, written to a file and loaded as <c>gatehouse proxy -config</c> would.</summary>
    private static GatehouseConfig LoadConfig(IReadOnlyList<Document> docs)
    {
        var map = Single(docs, "ConfigMap");
        var hcl = (string)map.Object["data"]!["gatehouse.hcl"]!;
        using var directory = new TempDirectory("gatehouse-chart-");
        var path = Path.Combine(directory, "gatehouse.hcl");
        File.WriteAllText(path, hcl);
        var loaded = ConfigLoader.Load([path], _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics.Select(d => d.ToDisplayString())) + "\n" + hcl);
        return loaded.Config!;
    }

    /// <summary>Non-root, read-only root file system, no privilege escalation, every capability dropped.</summary>
    private static void AssertHardened(JsonObject pod, JsonObject container)
    {
        Assert.True((bool)pod["securityContext"]!["runAsNonRoot"]!);
        Assert.Equal("RuntimeDefault", (string?)pod["securityContext"]!["seccompProfile"]!["type"]);
        var security = container["securityContext"]!;
        Assert.True((bool)security["readOnlyRootFilesystem"]!);
        Assert.False((bool)security["allowPrivilegeEscalation"]!);
        Assert.True((bool)security["runAsNonRoot"]!);
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
        Assert.Null(security["capabilities"]!["add"]);
    }

    /// <summary>Readiness and startup on health, liveness on ?probe=live, all on the port of the metrics_only listener.</summary>
    private static void AssertProbes(JsonObject container, GatehouseConfig config)
    {
        Assert.Equal("/proxy/v1/health", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/proxy/v1/health?probe=live", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/proxy/v1/health", (string?)container["startupProbe"]!["httpGet"]!["path"]);
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
            Assert.Equal("metrics", (string?)container[probe]!["httpGet"]!["port"]);

        var metricsPort = (int)container["ports"]!.AsArray().Single(p => (string?)p!["name"] == "metrics")!["containerPort"]!;
        var metrics = Assert.Single(config.Listeners, l => l.Role == ListenerRole.MetricsOnly);
        Assert.Equal($"0.0.0.0:{metricsPort}", metrics.EffectiveAddress);
        Assert.True(metrics.TlsDisable);
    }

    /// <summary>Every mount names a volume of the pod; the config is mounted where the args read it.</summary>
    private static void AssertMounts(JsonObject pod, JsonObject container)
    {
        var volumes = pod["volumes"]!.AsArray().Select(v => (string)v!["name"]!).ToHashSet();
        var mounts = container["volumeMounts"]!.AsArray().Select(m => m!.AsObject()).ToArray();
        Assert.All(mounts, m => Assert.Contains((string)m["name"]!, volumes));
        var config = Assert.Single(mounts, m => (string?)m["name"] == "gatehouse-config");
        Assert.Equal("/etc/gatehouse", (string?)config["mountPath"]);
        Assert.Equal(["proxy", "-config=/etc/gatehouse/gatehouse.hcl"], container["args"]!.AsArray().Select(a => (string)a!));
    }

    /// <summary>The sizing rule of docs/kubernetes.md: limit ≥ 96 MiB + 1.5 × (max_bytes + 1 KiB × max_entries).</summary>
    private static void AssertMemoryFitsTheCache(JsonObject container, GatehouseConfig config)
    {
        var limit = (string)container["resources"]!["limits"]!["memory"]!;
        long unit = limit.EndsWith("Gi", StringComparison.Ordinal) ? 1024 * 1024 * 1024 : 1024 * 1024;
        Assert.True(limit.EndsWith("Mi", StringComparison.Ordinal) || limit.EndsWith("Gi", StringComparison.Ordinal), limit);
        long limitBytes = long.Parse(limit[..^2], System.Globalization.CultureInfo.InvariantCulture) * unit;
        long maxBytes = config.Cache!.MaxBytes ?? Defaults.CacheMaxBytes;
        long maxEntries = config.Cache.MaxEntries ?? 100_000;
        long need = (96L * 1024 * 1024) + (3 * (maxBytes + (1024 * maxEntries)) / 2);
        Assert.True(limitBytes >= need, $"limit {limit} < {need / (1024 * 1024)} MiB for max_bytes={maxBytes}, max_entries={maxEntries}");
    }

    [Fact]
    public void Sidecar_Native_IsAnInitContainerWithRestartPolicyAlways_BesideTheApp()
    {
        var docs = Render("");

        Assert.Equal(["ConfigMap", "Deployment", "ServiceAccount"], Kinds(docs));
        var pod = PodSpec(Single(docs, "Deployment"));
        var gatehouse = Gatehouse(pod);
        Assert.Same(gatehouse, Containers(pod, "initContainers").Single());
        Assert.Equal("Always", (string?)gatehouse["restartPolicy"]);
        var app = Assert.Single(Containers(pod, "containers"));
        Assert.Equal("app", (string?)app["name"]);
        Assert.Equal("registry.example.com/gatehouse:0.1.0", (string?)gatehouse["image"]);

        var config = LoadConfig(docs);
        AssertHardened(pod, gatehouse);
        AssertHardened(pod, app);
        AssertProbes(gatehouse, config);
        AssertMounts(pod, gatehouse);
        AssertMemoryFitsTheCache(gatehouse, config);

        // The app reaches the loopback listener, which injects the pod's own token (force): nothing else reaches it.
        var listener = Assert.Single(config.Listeners, l => l.Role == ListenerRole.Default);
        Assert.Equal("127.0.0.1:8100", listener.EffectiveAddress);
        Assert.Equal("http://127.0.0.1:8100", (string?)app["env"]!.AsArray().Single(e => (string?)e!["name"] == "VAULT_ADDR")!["value"]);
        Assert.Equal(AutoAuthTokenMode.Force, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal("kubernetes", config.AutoAuth!.Method.Type);
        Assert.Equal("gatehouse", config.AutoAuth.Method.Config.GetString("role"));
        Assert.Equal((string?)Single(docs, "ServiceAccount").Name, (string?)pod["serviceAccountName"]);
    }

    [Fact]
    public void Sidecar_Classic_IsASecondContainer_WithoutRestartPolicy()
    {
        var docs = Render("sidecar: {native: false}");

        var pod = PodSpec(Single(docs, "Deployment"));
        Assert.Empty(Containers(pod, "initContainers"));
        Assert.Equal(["app", "gatehouse"], Containers(pod, "containers").Select(c => (string)c["name"]!));
        var gatehouse = Gatehouse(pod);
        Assert.Null(gatehouse["restartPolicy"]);
        var config = LoadConfig(docs);
        AssertHardened(pod, gatehouse);
        AssertProbes(gatehouse, config);
        AssertMounts(pod, gatehouse);
    }

    [Fact]
    public void Deployment_IsSharedBehindAService_WithAPodDisruptionBudget_AndNoAutoAuthByDefault()
    {
        var docs = Render("mode: deployment\nreplicas: 3\nmetrics: {serviceMonitor: {enabled: true}}");

        Assert.Equal(["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceMonitor"], Kinds(docs));
        var deployment = Single(docs, "Deployment");
        Assert.Equal(3, (int)deployment.Object["spec"]!["replicas"]!);
        var pod = PodSpec(deployment);
        Assert.Empty(Containers(pod, "initContainers"));
        var gatehouse = Gatehouse(pod);
        var config = LoadConfig(docs);
        AssertHardened(pod, gatehouse);
        AssertProbes(gatehouse, config);
        AssertMounts(pod, gatehouse);
        AssertMemoryFitsTheCache(gatehouse, config);

        // Shared: listening on every address, and by default no pod that reaches the Service acts with Gatehouse's
        // identity: clients bring their own tokens.
        Assert.Single(config.Listeners, l => l.Role == ListenerRole.Default && l.EffectiveAddress == "0.0.0.0:8100");
        Assert.Null(config.AutoAuth);

        var labels = deployment.Object["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var service = Single(docs, "Service").Object["spec"]!;
        Assert.All(service["selector"]!.AsObject(), kv => Assert.Equal((string?)kv.Value, (string?)labels[kv.Key]));
        Assert.Equal(["http", "metrics"], service["ports"]!.AsArray().Select(p => (string)p!["targetPort"]!));
        var pdb = Single(docs, "PodDisruptionBudget").Object["spec"]!;
        Assert.Equal(1, (int)pdb["minAvailable"]!);
        Assert.All(pdb["selector"]!["matchLabels"]!.AsObject(), kv => Assert.Equal((string?)kv.Value, (string?)labels[kv.Key]));
        var endpoint = Single(docs, "ServiceMonitor").Object["spec"]!["endpoints"]![0]!;
        Assert.Equal("metrics", (string?)endpoint["port"]);
        Assert.Equal("/proxy/v1/metrics", (string?)endpoint["path"]);
        Assert.Equal("prometheus", (string?)endpoint["params"]!["format"]![0]);
    }

    [Fact]
    public void DaemonSet_ServesAUnixSocketInAHostPath_AndReadsApproleFromASecret()
    {
        var docs = Render(DaemonSetOnSocket);

        Assert.Equal(["ConfigMap", "DaemonSet", "PodMonitor", "Service", "ServiceAccount", "ServiceMonitor"], Kinds(docs));
        Assert.Equal("Local", (string?)Single(docs, "Service").Object["spec"]!["internalTrafficPolicy"]);
        var pod = PodSpec(Single(docs, "DaemonSet"));
        var gatehouse = Gatehouse(pod);
        var config = LoadConfig(docs);
        AssertHardened(pod, gatehouse);
        AssertProbes(gatehouse, config);
        AssertMounts(pod, gatehouse);
        AssertMemoryFitsTheCache(gatehouse, config);

        // The socket listener's file is in the directory mounted from the node.
        var unix = Assert.Single(config.Listeners, l => l.Type == ListenerType.Unix);
        Assert.Equal("/run/gatehouse/gatehouse.sock", unix.EffectiveAddress);
        Assert.Equal(Convert.ToInt32("666", 8), unix.SocketMode);
        var socketMount = gatehouse["volumeMounts"]!.AsArray().Single(m => (string?)m!["name"] == "gatehouse-socket")!;
        Assert.Equal(Path.GetDirectoryName(unix.EffectiveAddress), (string?)socketMount["mountPath"]);
        Assert.Null(socketMount["readOnly"]);
        var hostPath = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == "gatehouse-socket")!["hostPath"]!;
        Assert.Equal("/var/run/gatehouse", (string?)hostPath["path"]);
        Assert.Equal("DirectoryOrCreate", (string?)hostPath["type"]);

        // The directory the kubelet creates as root is handed to the pod's user by an init container that may only chown.
        var chown = Assert.Single(Containers(pod, "initContainers"));
        Assert.Equal(["chown", $"{(int)pod["securityContext"]!["runAsUser"]!}:{(int)pod["securityContext"]!["runAsGroup"]!}", "/run/gatehouse"],
            chown["command"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(["CHOWN", "FOWNER"], chown["securityContext"]!["capabilities"]!["add"]!.AsArray().Select(c => (string)c!));
        Assert.Equal(["ALL"], chown["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(c => (string)c!));
        Assert.False((bool)chown["securityContext"]!["allowPrivilegeEscalation"]!);

        // Auto-auth turned on in a shared mode: a client's own token wins, token-less requests get Gatehouse's.
        Assert.Equal(AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);

        // approle's files come from the Secret, mounted where the method's config reads them; Vault's CA likewise.
        Assert.Equal("approle", config.AutoAuth!.Method.Type);
        var auth = gatehouse["volumeMounts"]!.AsArray().Single(m => (string?)m!["name"] == "gatehouse-auth")!;
        Assert.Equal(Path.GetDirectoryName(config.AutoAuth.Method.Config.GetString("role_id_file_path")), (string?)auth["mountPath"]);
        Assert.Equal(Path.GetDirectoryName(config.AutoAuth.Method.Config.GetString("secret_id_file_path")), (string?)auth["mountPath"]);
        Assert.Equal("gatehouse-approle", (string?)pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == "gatehouse-auth")!["secret"]!["secretName"]);
        var ca = gatehouse["volumeMounts"]!.AsArray().Single(m => (string?)m!["name"] == "gatehouse-vault-ca")!;
        Assert.Equal(Path.GetDirectoryName(config.Vault.CaCert), (string?)ca["mountPath"]);

        var podMonitor = Single(docs, "PodMonitor").Object["spec"]!;
        Assert.Equal("/proxy/v1/metrics", (string?)podMonitor["podMetricsEndpoints"]![0]!["path"]);
    }

    [Fact]
    public void ExtraHcl_IsAppended_AndTheResultStillValidates()
    {
        var docs = Render("""
            config:
              extra: |
                listener "tcp" {
                  address     = "0.0.0.0:8443"
                  tls_disable = true
                }
            """);

        var config = LoadConfig(docs);
        Assert.Contains(config.Listeners, l => l.EffectiveAddress == "0.0.0.0:8443");
    }

    [Fact]
    public void Deployment_SharedMode_GivesEveryReplicaTheKeyAndTheRedisBlock()
    {
        var docs = Render("mode: deployment\nreplicas: 3\nautoAuth: {enabled: true}\ncache: {shared: {enabled: true, address: 'redis.cache.svc:6379', keySecret: gatehouse-fleet, passwordSecret: redis-auth, username: gatehouse}}");

        var pod = PodSpec(Single(docs, "Deployment"));
        var gatehouse = Gatehouse(pod);
        AssertMounts(pod, gatehouse);
        var key = gatehouse["env"]!.AsArray().Single(e => (string?)e!["name"] == "GATEHOUSE_SHARED_KEY")!;
        Assert.Equal("gatehouse-fleet", (string?)key["valueFrom"]!["secretKeyRef"]!["name"]);
        Assert.Equal("key", (string?)key["valueFrom"]!["secretKeyRef"]!["key"]);
        var redis = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == "gatehouse-redis")!;
        Assert.Equal("redis-auth", (string?)redis["secret"]!["secretName"]);
        Assert.Contains(gatehouse["volumeMounts"]!.AsArray(), m => (string?)m!["mountPath"] == "/var/run/secrets/gatehouse/redis");

        // The generated block binds, and validates once the key is there (the password file is only in the pod).
        var hcl = (string)Single(docs, "ConfigMap").Object["data"]!["gatehouse.hcl"]!;
        var key32 = Convert.ToBase64String(new byte[32]);
        var diagnostics = new List<ConfigDiagnostic>();
        var bound = ConfigBinder.Bind(global::Gatehouse.Hcl.HclParser.Parse(hcl, "gatehouse.hcl"), "gatehouse.hcl", v => v == "GATEHOUSE_SHARED_KEY" ? key32 : null, diagnostics).Config;
        Assert.Empty(diagnostics);
        var shared = bound.Cache!.Shared!;
        Assert.Equal("redis.cache.svc:6379", shared.Address);
        Assert.Equal("GATEHOUSE_SHARED_KEY", shared.KeyEnvVar);
        Assert.Equal("gatehouse", shared.Username);
        Assert.Equal("/var/run/secrets/gatehouse/redis/password", shared.PasswordFile);
        ConfigValidator.Validate(bound, diagnostics);
        var line = Assert.Single(diagnostics);
        Assert.Contains("cannot read password_file /var/run/secrets/gatehouse/redis/password", line.ToDisplayString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resources: {limits: {memory: 128Mi}}", "resources.limits.memory 128Mi is below what cache.maxBytes=33554432 and cache.maxEntries=8192 need: 156Mi")]
    [InlineData("cache: {maxBytes: 268435456, maxEntries: 100000}", "resources.limits.memory 160Mi is below what cache.maxBytes=268435456 and cache.maxEntries=100000 need: 627Mi")]
    [InlineData("resources: {limits: {memory: 160M}}", "resources.limits.memory 160M is below")]
    [InlineData("mode: statefulset", "mode must be sidecar, deployment or daemonset, not \"statefulset\"")]
    [InlineData("mode: deployment\ndaemonset: {unixSocket: {enabled: true}}", "daemonset.unixSocket.enabled needs mode: daemonset")]
    [InlineData("mode: deployment\ncache: {shared: {enabled: true}}", "cache.shared.enabled needs cache.shared.keySecret")]
    [InlineData("mode: deployment\ncache: {enabled: false, shared: {enabled: true, keySecret: k}}", "cache.shared.enabled needs cache.enabled")]
    public void BadValues_FailTheRender_WithTheReason(string values, string message)
    {
        Assert.Contains(message, RenderError(values), StringComparison.Ordinal);
    }

    [Fact]
    public void NativeSidecar_BeforeKubernetes129_FailsTheRender_ClassicRenders()
    {
        Assert.Contains(
            "sidecar.native needs Kubernetes 1.29 or later (init containers with restartPolicy: Always); this cluster is v1.28.0: set sidecar.native=false",
            RenderError("", kubeVersion: "1.28"),
            StringComparison.Ordinal);
        Assert.Single(Render("", kubeVersion: "1.29"), d => d.Kind == "Deployment");

        var classic = Render("sidecar: {native: false}", kubeVersion: "1.28");
        Assert.Empty(Containers(PodSpec(Single(classic, "Deployment")), "initContainers"));
    }

    [Fact]
    public void MemoryLimit_ThatFitsTheBounds_Renders()
    {
        var docs = Render("cache: {maxBytes: 268435456, maxEntries: 100000}\nresources: {limits: {memory: 1Gi}}");

        AssertMemoryFitsTheCache(Gatehouse(PodSpec(Single(docs, "Deployment"))), LoadConfig(docs));
    }
}
