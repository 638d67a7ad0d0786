using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// The <c>alicloud</c> method's checks beyond the key table. Vault's NewAliCloudAuthMethod converts the three numbers
/// with Go type assertions (a quoted number is refused: "could not convert … to int") and wants a positive
/// credential_poll_interval; the SDK's client refuses a region outside <c>[a-zA-Z0-9_-]</c> and session durations
/// outside 900–3600 seconds at the first login. Gatehouse also refuses the combinations the SDK's credential provider
/// would silently skip (an access key without its secret, role_arn without role_session_name and
/// role_session_expiration, a key pair without session_expiration), since Vault Agent then signs with other
/// credentials than the ones configured.
/// </summary>
internal static partial class AlicloudConfigRules
{
    public static void Check(AuthMethodConfig method, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        var config = method.Config;
        void Error(string key, string message) =>
            diagnostics.Add(new ConfigDiagnostic(config.PositionOf(key), $"{path}.config.{key}", message));
        bool Has(string key) => config.GetString(key) is { Length: > 0 };

        if (config.GetString("region") is { Length: > 0 } region && !RegionPattern().IsMatch(region))
        {
            Error("region", $"regionId contains invalid characters: \"{region}\"; use a region id such as \"cn-hangzhou\" or \"us-west-1\"");
        }

        CheckNumber(config, "credential_poll_interval", path, diagnostics, positive: true);
        CheckNumber(config, "role_session_expiration", path, diagnostics, positive: false);
        CheckNumber(config, "session_expiration", path, diagnostics, positive: false);

        if (Has("access_key") != Has("access_secret"))
        {
            Error(Has("access_key") ? "access_key" : "access_secret",
                "access_key and access_secret must be set together (Vault Agent ignores one without the other and looks elsewhere for credentials)");
        }

        if (Has("access_token") && !(Has("access_key") && Has("access_secret")))
        {
            Error("access_token", "access_token is the STS token of access_key and access_secret; set them too");
        }

        if (Has("role_arn") && !(Has("access_key") && Has("access_secret") && Has("role_session_name") && config.Contains("role_session_expiration")))
        {
            Error("role_arn", "role_arn is assumed only with access_key, access_secret, role_session_name and role_session_expiration all set " +
                "(Vault Agent otherwise ignores it and signs with the access key itself); set them or remove role_arn");
        }

        if ((Has("private_key") || Has("public_key_id")) && !(Has("private_key") && Has("public_key_id") && config.Contains("session_expiration")))
        {
            Error(Has("private_key") ? "private_key" : "public_key_id",
                "an RSA key pair needs private_key, public_key_id and session_expiration together (Vault Agent otherwise ignores it)");
        }

        if (config.GetString("private_key") is { Length: > 0 } privateKey && !IsPkcs8RsaKey(privateKey))
        {
            Error("private_key", "private_key must be the base64 of a PKCS#8 RSA private key (the PEM body without its BEGIN/END lines)");
        }

        foreach (var key in new[] { "sts_endpoint", "metadata_endpoint" })
        {
            if (config.GetString(key) is { Length: > 0 } url
                && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.PathAndQuery is "/" or ""))
            {
                Error(key, $"{key} must be an http or https URL with no path, such as \"https://sts.example.com\"; got \"{url}\"");
            }
        }
    }

    private static void CheckNumber(ConfigMap config, string key, string path, ICollection<ConfigDiagnostic> diagnostics, bool positive)
    {
        if (!config.Values.TryGetValue(key, out var node) || !ValueParser.TryInt32(node, out var value, out _))
        {
            return;
        }

        var at = $"{path}.config.{key}";
        if (node is HclString)
        {
            diagnostics.Add(new ConfigDiagnostic(node.Position, at,
                $"could not convert '{key}' config value to {(positive ? "positive int" : "int")}; write the number without quotes"));
        }
        else if (positive && value <= 0)
        {
            diagnostics.Add(new ConfigDiagnostic(node.Position, at,
                $"could not convert '{key}' config value to positive int; use a number of seconds such as 60"));
        }
        else if (!positive && value != 0 && value is < 900 or > 3600)
        {
            diagnostics.Add(new ConfigDiagnostic(node.Position, at,
                $"{key} must be 900–3600 seconds (15min - 1hr), or 0 for 3600"));
        }
    }

    private static bool IsPkcs8RsaKey(string text)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(text), out _);
            return true;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]+$")]
    private static partial Regex RegionPattern();
}
