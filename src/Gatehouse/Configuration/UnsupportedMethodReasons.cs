namespace Gatehouse.Configuration;

/// <summary>
/// Why an auth method Vault Agent knows is still refused, for the refusal message (issue 16 asks that each refusal
/// names its reason). A method without an entry gets the plain "not supported by Gatehouse yet".
/// </summary>
internal static class UnsupportedMethodReasons
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["alicloud"] = "the signed STS GetCallerIdentity request (Alibaba's RPC signature, HMAC-SHA1, with credentials from the " +
            "environment or the ECS RAM-role metadata service) is not implemented; no Alibaba Cloud SDK is served, so the signer " +
            "would be hand-written",
        ["oci"] = "OCI request signing (draft-cavage HTTP signatures, RSA-SHA256, with an API key from ~/.oci/config or instance " +
            "principals) is not implemented",
    };

    /// <summary>" (reason)" for the message, or empty.</summary>
    public static string For(string type) => Reasons.TryGetValue(type, out var reason) ? $" ({reason})" : "";
}
