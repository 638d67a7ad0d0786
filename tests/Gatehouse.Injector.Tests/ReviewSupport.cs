using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.JsonPatch.SystemTextJson;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Injector.Tests;

/// <summary>
/// AdmissionReview documents as the API server sends them (tests/Gatehouse.Injector.Tests/Reviews), the handler's
/// answer, and the pod after the answer's JSON Patch is applied by ASP.NET Core's RFC 6902 implementation, as the API
/// server would apply it: a patch whose paths do not fit the pod fails here as it would fail there.
/// </summary>
internal static class ReviewSupport
{
    public static InjectorOptions Options { get; } = new() { VaultAddress = "https://vault.example.com:8200", Image = "registry.example.com/gatehouse:0.1.0" };

    public static JsonObject Load(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reviews", name)))!.AsObject();

    public static JsonObject Pod(JsonObject review) => review["request"]!["object"]!.AsObject();

    public static JsonObject Annotations(JsonObject review) => Pod(review)["metadata"]!["annotations"]!.AsObject();

    /// <summary>Sends the review through the handler; returns the HTTP status and the AdmissionReview answer.</summary>
    public static (int Status, JsonObject Answer) Review(JsonObject review, InjectorOptions? options = null) =>
        Review(Encoding.UTF8.GetBytes(review.ToJsonString()), options);

    public static (int Status, JsonObject Answer) Review(byte[] body, InjectorOptions? options = null) =>
        new AdmissionHandler(options ?? Options, NullLogger<AdmissionHandler>.Instance).Review(body);

    public static JsonObject Response(JsonObject answer) => answer["response"]!.AsObject();

    /// <summary>The decoded JSON Patch of an allowed answer.</summary>
    public static JsonArray Patch(JsonObject answer)
    {
        var response = Response(answer);
        Assert.Equal("JSONPatch", response["patchType"]?.GetValue<string>());
        return JsonNode.Parse(Convert.FromBase64String(response["patch"]!.GetValue<string>()))!.AsArray();
    }

    /// <summary>The pod of <paramref name="review"/> with the answer's patch applied.</summary>
    public static JsonObject Patched(JsonObject review, JsonObject answer)
    {
        var pod = Pod(review).DeepClone().AsObject();
        var document = JsonSerializer.Deserialize<JsonPatchDocument>(Patch(answer).ToJsonString())!;
        document.ApplyTo(pod);
        return pod;
    }

    public static JsonObject? Container(JsonObject pod, string list, string name) =>
        (pod["spec"]![list] as JsonArray)?.OfType<JsonObject>().SingleOrDefault(c => c["name"]?.GetValue<string>() == name);

    public static string? Env(JsonObject container, string name) =>
        (container["env"] as JsonArray)?.OfType<JsonObject>().SingleOrDefault(e => e["name"]?.GetValue<string>() == name)?["value"]?.GetValue<string>();
}
