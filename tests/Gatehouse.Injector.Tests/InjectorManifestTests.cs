using YamlDotNet.RepresentationModel;

namespace Gatehouse.Injector.Tests;

/// <summary>
/// packaging/kubernetes/injector.yaml, parsed as YAML: the webhook registration reaches the injector's route with the
/// review version it accepts, the Deployment's arguments are ones the injector parses, and the serving certificate
/// is where those arguments say.
/// </summary>
public sealed class InjectorManifestTests
{
    private static readonly List<YamlMappingNode> Documents = Load();

    private static List<YamlMappingNode> Load()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(AppContext.BaseDirectory, "Packaging", "injector.yaml"));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlMappingNode Kind(string kind) => Documents.Single(d => S(d, "kind") == kind);

    private static string S(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is YamlSequenceNode list ? list[int.Parse(key, System.Globalization.CultureInfo.InvariantCulture)] : ((YamlMappingNode)node)[key];
        }

        return ((YamlScalarNode)node).Value!;
    }

    private static YamlNode N(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is YamlSequenceNode list ? list[int.Parse(key, System.Globalization.CultureInfo.InvariantCulture)] : ((YamlMappingNode)node)[key];
        }

        return node;
    }

    [Fact]
    public void Webhook_CallsMutateOnTheService_ForPodCreates_WithReviewV1()
    {
        var webhook = N(Kind("MutatingWebhookConfiguration"), "webhooks", "0");
        Assert.Equal("/mutate", S(webhook, "clientConfig", "service", "path"));
        Assert.Equal("gatehouse-injector", S(webhook, "clientConfig", "service", "name"));
        Assert.Equal(["v1"], ((YamlSequenceNode)N(webhook, "admissionReviewVersions")).Select(v => ((YamlScalarNode)v).Value));
        Assert.Equal("None", S(webhook, "sideEffects"));
        Assert.Equal("CREATE", S(webhook, "rules", "0", "operations", "0"));
        Assert.Equal("pods", S(webhook, "rules", "0", "resources", "0"));
        var excluded = ((YamlSequenceNode)N(webhook, "namespaceSelector", "matchExpressions", "0", "values")).Select(v => ((YamlScalarNode)v).Value).ToList();
        Assert.Contains("kube-system", excluded);
        Assert.Contains("gatehouse", excluded);

        var service = Kind("Service");
        Assert.Equal("443", S(service, "spec", "ports", "0", "port"));
        Assert.Equal("https", S(service, "spec", "ports", "0", "targetPort"));
    }

    [Fact]
    public void Deployment_ArgumentsAreOnesTheInjectorParses_AndTheCertificateIsMountedWhereTheySay()
    {
        var pod = N(Kind("Deployment"), "spec", "template", "spec");
        var container = N(pod, "containers", "0");
        var args = ((YamlSequenceNode)N(container, "args")).Select(a => ((YamlScalarNode)a).Value!).ToList();

        var options = InjectorOptions.Parse(args, _ => null, out var error);
        Assert.True(options is not null, error);
        Assert.Equal("0.0.0.0:8443", options.Listen);
        Assert.Equal("8443", S(container, "ports", "0", "containerPort"));
        Assert.Equal("/healthz", S(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("HTTPS", S(container, "readinessProbe", "httpGet", "scheme"));

        var mount = S(container, "volumeMounts", "0", "mountPath");
        Assert.StartsWith(mount + "/", options.TlsCertFile, StringComparison.Ordinal);
        Assert.StartsWith(mount + "/", options.TlsKeyFile, StringComparison.Ordinal);
        Assert.Equal(S(Kind("Certificate"), "spec", "secretName"), S(pod, "volumes", "0", "secret", "secretName"));
        Assert.Contains("gatehouse-injector.gatehouse.svc", ((YamlSequenceNode)N(Kind("Certificate"), "spec", "dnsNames")).Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal("true", S(container, "securityContext", "readOnlyRootFilesystem"));
    }
}
