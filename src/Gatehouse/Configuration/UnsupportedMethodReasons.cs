namespace Gatehouse.Configuration;

/// <summary>
/// Why an auth method Vault Agent knows is still refused, for the refusal message (issue 16 asks that each refusal
/// names its reason). A method without an entry gets the plain "not supported by Gatehouse yet".
/// </summary>
internal static class UnsupportedMethodReasons
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["alicloud"] = "Vault Agent's credential chain (environment, static access_key/access_secret/access_token, RAM role " +
            "assumption, RSA key pair, the ECS RAM-role metadata service) with its credential_poll_interval re-login, and the " +
            "signed STS GetCallerIdentity request (Alibaba's RPC signature, HMAC-SHA1, hand-written since no Alibaba Cloud SDK " +
            "is served) are not implemented",
    };

    /// <summary>" (reason)" for the message, or empty.</summary>
    public static string For(string type) => Reasons.TryGetValue(type, out var reason) ? $" ({reason})" : "";
}
