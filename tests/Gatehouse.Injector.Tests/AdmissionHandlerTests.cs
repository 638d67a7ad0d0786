using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using static Gatehouse.Injector.Tests.ReviewSupport;

namespace Gatehouse.Injector.Tests;

public sealed class AdmissionHandlerTests
{
    [Fact]
    public void DeploymentPod_GetsANativeSidecarFirst_AndEveryAppContainerItsAddress()
    {
        var review = Load("deployment-pod-create.json");
        var (status, answer) = Review(review);

        Assert.Equal(200, status);
        Assert.Equal("admission.k8s.io/v1", answer["apiVersion"]!.GetValue<string>());
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", Response(answer)["uid"]!.GetValue<string>());
        Assert.True(Response(answer)["allowed"]!.GetValue<bool>());

        var pod = Patched(review, answer);
        var init = pod["spec"]!["initContainers"]!.AsArray();
        Assert.Equal(["gatehouse-proxy", "migrate"], init.Select(c => c!["name"]!.GetValue<string>()));
        var sidecar = init[0]!.AsObject();
        Assert.Equal("Always", sidecar["restartPolicy"]!.GetValue<string>());
        Assert.Equal("registry.example.com/gatehouse:0.1.0", sidecar["image"]!.GetValue<string>());
        Assert.Equal(["proxy", "-config=/gatehouse/config/config.json"], sidecar["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        var security = sidecar["securityContext"]!;
        Assert.True(security["runAsNonRoot"]!.GetValue<bool>());
        Assert.True(security["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(security["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => c!.GetValue<string>()));

        // Probes run `gatehouse health` against the sidecar's own listener; the startup probe holds the app back
        // until the first token. Each command is one the health subcommand parses.
        Assert.Equal(["/usr/local/bin/gatehouse", "health", "-address=http://127.0.0.1:8100"], Command(sidecar, "startupProbe"));
        Assert.Equal(["/usr/local/bin/gatehouse", "health", "-address=http://127.0.0.1:8100", "-probe=live"], Command(sidecar, "livenessProbe"));
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.True(Gatehouse.Hosting.HealthCommand.Parse([.. Command(sidecar, probe).Skip(2)], _ => null, out var error) is not null, error);
        }

        // Every app container, and the init container that runs after the sidecar, reaches Vault through it.
        foreach (var (list, name) in new[] { ("containers", "api"), ("containers", "metrics-agent"), ("initContainers", "migrate") })
        {
            Assert.Equal("http://127.0.0.1:8100", Env(Container(pod, list, name)!, "VAULT_ADDR"));
        }

        Assert.Equal("info", Env(Container(pod, "containers", "api")!, "LOG_LEVEL"));
        Assert.Equal(2, pod["spec"]!["containers"]!.AsArray().Count);
        var volumes = pod["spec"]!["volumes"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["kube-api-access-x7k2p", "gatehouse-config", "gatehouse-tmp", "gatehouse-token"], volumes);
        Assert.Equal("injected", pod["metadata"]!["annotations"]!["gatehouse.dev/agent-inject-status"]!.GetValue<string>());
    }

    private static string[] Command(JsonObject container, string probe) =>
        [.. container[probe]!["exec"]!["command"]!.AsArray().Select(c => c!.GetValue<string>())];

    [Fact]
    public void GeneratedConfig_IsOneGatehouseValidates_WithTheRoleAddressAndTokenPath()
    {
        var review = Load("deployment-pod-create.json");
        var pod = Patched(review, Review(review).Answer);
        var text = pod["metadata"]!["annotations"]!["gatehouse.dev/agent-config"]!.GetValue<string>();

        var loaded = ConfigLoader.FromTree(HclJsonParser.Parse(text, "config.json"), "config.json");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        var config = loaded.Config!;
        Assert.Equal("https://vault.vault.svc:8200", config.Vault.Address);
        Assert.Equal("kubernetes", config.AutoAuth!.Method.Type);
        Assert.Equal("payments-api", config.AutoAuth.Method.Config.GetString("role"));
        Assert.Equal("/var/run/secrets/gatehouse.dev/serviceaccount/token", config.AutoAuth.Method.Config.GetString("token_path"));
        Assert.Equal(AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);
        Assert.Equal("127.0.0.1:8100", Assert.Single(config.Listeners).Address);

        // The sidecar reads it as a file named config.json, as `gatehouse proxy -config=…/config.json` does.
        using var dir = new TempDirectory("gatehouse-injector-config-");
        var file = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(file, text);
        var fromFile = ConfigLoader.Load([file], _ => null);
        Assert.True(fromFile.Succeeded, string.Join("\n", fromFile.Diagnostics));
        Assert.Equal("payments-api", fromFile.Config!.AutoAuth!.Method.Config.GetString("role"));

        // The downward-API volume hands exactly that annotation to the sidecar as its config file.
        var configVolume = pod["spec"]!["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "gatehouse-config")!;
        Assert.Equal("metadata.annotations['gatehouse.dev/agent-config']", configVolume["downwardAPI"]!["items"]![0]!["fieldRef"]!["fieldPath"]!.GetValue<string>());
    }

    [Fact]
    public void UnixListener_SharesTheSocketReadOnlyWithEveryAppContainer()
    {
        var review = Load("bare-pod-create.json");
        Annotations(review)["gatehouse.dev/role"] = "debug";
        Annotations(review)["gatehouse.dev/listener"] = "unix";
        Annotations(review)["gatehouse.dev/cache"] = "true";
        var pod = Patched(review, Review(review).Answer);

        var shell = Container(pod, "containers", "shell")!;
        Assert.Equal("unix:///gatehouse/run/vault.sock", Env(shell, "VAULT_ADDR"));
        var mount = shell["volumeMounts"]!.AsArray().Single()!;
        Assert.Equal(("gatehouse-run", "/gatehouse/run", true), (mount["name"]!.GetValue<string>(), mount["mountPath"]!.GetValue<string>(), mount["readOnly"]!.GetValue<bool>()));
        var config = ConfigLoader.FromTree(HclJsonParser.Parse(pod["metadata"]!["annotations"]!["gatehouse.dev/agent-config"]!.GetValue<string>(), "c.json"), "c.json").Config!;
        Assert.Equal(ListenerType.Unix, config.Listeners[0].Type);
        Assert.Equal(ReviewSupport.Options.CacheMaxBytes, config.Cache!.MaxBytes);

        // The pod had no initContainers: the patch creates the list with the sidecar in it.
        Assert.Equal("gatehouse-proxy", Assert.Single(pod["spec"]!["initContainers"]!.AsArray())!["name"]!.GetValue<string>());
    }

    [Fact]
    public void ClassicSidecar_IsTheLastContainer_WithoutRestartPolicy()
    {
        var review = Load("deployment-pod-create.json");
        Annotations(review)["gatehouse.dev/sidecar"] = "classic";
        var pod = Patched(review, Review(review).Answer);

        var containers = pod["spec"]!["containers"]!.AsArray();
        Assert.Equal("gatehouse-proxy", containers[^1]!["name"]!.GetValue<string>());
        Assert.Null(containers[^1]!["restartPolicy"]);
        Assert.Equal(["migrate"], pod["spec"]!["initContainers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Null(Env(Container(pod, "initContainers", "migrate")!, "VAULT_ADDR"));
    }

    [Fact]
    public void AppRole_MountsTheNamedSecret_AndKeepsTheSecretIdFile()
    {
        var review = Load("bare-pod-create.json");
        Annotations(review)["gatehouse.dev/auth-method"] = "approle";
        Annotations(review)["gatehouse.dev/approle-secret"] = "debug-approle";
        var pod = Patched(review, Review(review).Answer);

        var volume = pod["spec"]!["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "gatehouse-approle")!;
        Assert.Equal("debug-approle", volume["secret"]!["secretName"]!.GetValue<string>());
        var config = ConfigLoader.FromTree(HclJsonParser.Parse(pod["metadata"]!["annotations"]!["gatehouse.dev/agent-config"]!.GetValue<string>(), "c.json"), "c.json").Config!;
        Assert.Equal("approle", config.AutoAuth!.Method.Type);
        Assert.Equal("auth/approle", config.AutoAuth.Method.MountPath);
        Assert.False(config.AutoAuth.Method.Config.GetBool("remove_secret_id_file_after_reading"));
    }

    [Fact]
    public void ExplicitVaultAddr_IsKept()
    {
        var review = Load("deployment-pod-create.json");
        Pod(review)["spec"]!["containers"]![0]!["env"]!.AsArray().Add(new JsonObject { ["name"] = "VAULT_ADDR", ["value"] = "https://elsewhere:8200" });
        var pod = Patched(review, Review(review).Answer);
        Assert.Equal("https://elsewhere:8200", Env(Container(pod, "containers", "api")!, "VAULT_ADDR"));
    }

    [Fact]
    public void EveryAnnotationProblem_IsReported_AndThePodRefused()
    {
        var review = Load("bare-pod-create.json");
        Annotations(review)["gatehouse.dev/listener"] = "udp";
        Annotations(review)["gatehouse.dev/cache"] = "yes please";
        Annotations(review)["gatehouse.dev/limits-mem"] = "lots";
        Annotations(review)["gatehouse.dev/rol"] = "typo";
        var (status, answer) = Review(review);

        Assert.Equal(200, status);
        var response = Response(answer);
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
        var message = response["status"]!["message"]!.GetValue<string>();
        foreach (var fragment in new[] { "gatehouse.dev/rol is not a Gatehouse annotation", "gatehouse.dev/role is required", "\"udp\" is not supported", "\"yes please\" is not a boolean", "\"lots\" is not a Kubernetes quantity" })
        {
            Assert.Contains(fragment, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("false")]
    [InlineData(null)]
    public void PodNotAskingForInjection_IsAllowedUnchanged(string? inject)
    {
        var review = Load("bare-pod-create.json");
        if (inject is null)
        {
            Annotations(review).Remove("gatehouse.dev/inject");
        }
        else
        {
            Annotations(review)["gatehouse.dev/inject"] = inject;
        }

        var response = Response(Review(review).Answer);
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
    }

    [Fact]
    public void AlreadyInjected_UpdateOperation_AndOtherKinds_AreLeftAlone()
    {
        var injected = Load("deployment-pod-create.json");
        Annotations(injected)["gatehouse.dev/agent-inject-status"] = "injected";
        var update = Load("deployment-pod-create.json");
        update["request"]!["operation"] = "UPDATE";
        var configMap = Load("deployment-pod-create.json");
        configMap["request"]!["kind"]!["kind"] = "ConfigMap";

        foreach (var review in new[] { injected, update, configMap })
        {
            var response = Response(Review(review).Answer);
            Assert.True(response["allowed"]!.GetValue<bool>());
            Assert.Null(response["patch"]);
        }
    }

    [Fact]
    public void SystemNamespace_AndATakenName_AreRefused()
    {
        var system = Load("bare-pod-create.json");
        Annotations(system)["gatehouse.dev/role"] = "x";
        system["request"]!["namespace"] = "kube-system";
        Assert.Contains("system namespace kube-system", Response(Review(system).Answer)["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var taken = Load("bare-pod-create.json");
        Annotations(taken)["gatehouse.dev/role"] = "x";
        Pod(taken)["spec"]!["containers"]!.AsArray().Add(new JsonObject { ["name"] = "gatehouse-proxy", ["image"] = "other" });
        Assert.Contains("already has a container named \"gatehouse-proxy\"", Response(Review(taken).Answer)["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", "not JSON")]
    [InlineData("""{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"u"}}""", "admissionReviewVersions")]
    [InlineData("""{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}""", "with a request and its uid")]
    public void NotAnAdmissionReview_Is400WithAVaultStyleError(string body, string fragment)
    {
        var (status, answer) = Review(Encoding.UTF8.GetBytes(body));
        Assert.Equal(400, status);
        Assert.Contains(fragment, answer["errors"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void PatchOrder_EditsExistingContainersBeforeInsertingTheSidecar()
    {
        // Index paths refer to the pod as the API server sent it: the insertion at initContainers/0 comes last.
        var review = Load("deployment-pod-create.json");
        var patch = Patch(Review(review).Answer).Select(op => op!["path"]!.GetValue<string>()).ToList();
        Assert.Equal("/spec/initContainers/0", patch[^1]);
        Assert.Contains("/spec/initContainers/0/env", patch);
        Assert.True(patch.IndexOf("/spec/initContainers/0/env") < patch.IndexOf("/spec/initContainers/0"));
    }
}
