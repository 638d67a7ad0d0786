using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Injector;

/// <summary>
/// The webhook's decision for one AdmissionReview (admission.k8s.io/v1), as vault-k8s decides:
/// <list type="bullet">
/// <item>not a pod CREATE, no <c>gatehouse.dev/inject</c> or a false one, a pod already
/// <c>gatehouse.dev/agent-inject-status: injected</c>, or a pod past Pending: allowed, unchanged;</item>
/// <item>any problem with the annotations, the system namespaces (kube-system, kube-public), a name the injector
/// needs already taken, or a generated configuration the validator refuses: <c>allowed: false</c>, every problem in
/// <c>status.message</c> (HTTP 200: the API server shows the message to whoever created the pod);</item>
/// <item>otherwise allowed with a JSONPatch (<see cref="PodPatcher"/>).</item>
/// </list>
/// A body that is not an AdmissionReview is HTTP 400: the API server then applies the webhook's failurePolicy.
/// </summary>
internal sealed partial class AdmissionHandler(InjectorOptions options, ILogger<AdmissionHandler> logger)
{
    private static readonly string[] SystemNamespaces = ["kube-system", "kube-public"];

    /// <summary>The HTTP status and the body to answer.</summary>
    public (int Status, JsonObject Body) Review(ReadOnlySpan<byte> body)
    {
        JsonObject? review;
        try
        {
            review = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException e)
        {
            return (400, Error($"the body is not JSON: {e.Message}"));
        }

        if (review?["request"] is not JsonObject request || Text(request["uid"]) is not { Length: > 0 } uid)
            return (400, Error("the body is not an AdmissionReview with a request and its uid"));
        var apiVersion = Text(review["apiVersion"]) ?? "";
        if (apiVersion != "admission.k8s.io/v1")
            return (400, Error($"AdmissionReview apiVersion \"{apiVersion}\" is not supported; register the webhook with admissionReviewVersions: [\"v1\"]"));

        return (200, Answer(uid, Decide(request)));
    }

    private JsonObject Decide(JsonObject request)
    {
        var allowed = new JsonObject { ["allowed"] = true };
        var kind = Text(request["kind"]?["kind"]);
        var operation = Text(request["operation"]);
        if (kind != "Pod" || operation != "CREATE" || request["object"] is not JsonObject pod)
            return allowed;

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (pod["metadata"]?["annotations"] is JsonObject map)
        {
            foreach (var (key, value) in map)
                annotations[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
        }

        var ns = Text(request["namespace"]) ?? Text(pod["metadata"]?["namespace"]) ?? "";
        var name = Text(pod["metadata"]?["name"]) ?? Text(pod["metadata"]?["generateName"]) ?? "";

        var wants = Annotations.WantsInjection(annotations, out var injectProblem);
        if (injectProblem is not null)
            return Refuse(ns, name, [injectProblem]);
        if (wants is null)
            return allowed;

        // As vault-k8s: injection happens at creation; a pod past Pending or already injected is left alone.
        if (Text(pod["status"]?["phase"]) is { Length: > 0 } phase && phase != "Pending")
            return allowed;
        if (annotations.TryGetValue(Annotations.Status, out var status) && status == Annotations.Injected)
        {
            LogAlreadyInjected(logger, ns, name);
            return allowed;
        }

        if (SystemNamespaces.Contains(ns))
            return Refuse(ns, name, [$"cannot inject into the system namespace {ns}"]);

        var problems = new List<string>();
        var spec = Annotations.Read(annotations, options, problems);
        var config = spec is null ? null : ProxyConfigGenerator.Generate(spec, options, problems);
        var patch = config is null ? null : PodPatcher.Build(pod, spec!, config, options, problems);
        if (patch is null)
            return Refuse(ns, name, problems);

        LogInjected(logger, ns, name, spec!.NativeSidecar ? "native" : "classic", spec.Listener == ListenerKind.Unix ? "unix" : "tcp");
        allowed["patchType"] = "JSONPatch";
        allowed["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
        return allowed;
    }

    private JsonObject Refuse(string ns, string name, List<string> problems)
    {
        var message = "gatehouse injector: " + string.Join("; ", problems);
        LogRefused(logger, ns, name, message);
        return new JsonObject
        {
            ["allowed"] = false,
            ["status"] = new JsonObject { ["code"] = 400, ["reason"] = "BadRequest", ["message"] = message },
        };
    }

    private static JsonObject Answer(string uid, JsonObject response)
    {
        response.Insert(0, "uid", uid);
        return new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["response"] = response,
        };
    }

    private static JsonObject Error(string message) => new() { ["errors"] = new JsonArray(message) };

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    [LoggerMessage(EventId = InjectorLogEvents.Injected, Level = LogLevel.Information, Message = "injected the Gatehouse sidecar: namespace={Namespace} pod={Pod} sidecar={Sidecar} listener={Listener}")]
    private static partial void LogInjected(ILogger logger, string @namespace, string pod, string sidecar, string listener);

    [LoggerMessage(EventId = InjectorLogEvents.Refused, Level = LogLevel.Warning, Message = "refused a pod: namespace={Namespace} pod={Pod} reason={Reason}")]
    private static partial void LogRefused(ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(EventId = InjectorLogEvents.AlreadyInjected, Level = LogLevel.Debug, Message = "pod already injected, left alone: namespace={Namespace} pod={Pod}")]
    private static partial void LogAlreadyInjected(ILogger logger, string @namespace, string pod);
}
