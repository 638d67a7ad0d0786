namespace Gatehouse.Configuration;

/// <summary>
/// Why an auth method Vault Agent knows is still refused, for the refusal message (issue 16 asks that each refusal
/// names its reason). A method without an entry gets the plain "not supported by Gatehouse yet".
/// </summary>
internal static class UnsupportedMethodReasons
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["oci"] = "OCI request signing (draft-cavage HTTP signatures, RSA-SHA256, with an API key from ~/.oci/config or instance " +
            "principals) is not implemented, and Vault's oci login body carries the signed request's headers as a JSON object, " +
            "which Gatehouse's login requests (string values only) cannot carry yet",
    };

    /// <summary>" (reason)" for the message, or empty.</summary>
    public static string For(string type) => Reasons.TryGetValue(type, out var reason) ? $" ({reason})" : "";
}
