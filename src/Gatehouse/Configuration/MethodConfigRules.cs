using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// The keys each auth method and the file sink take in their <c>config</c> map: which exist, their types, which are
/// required. Vault checks these when it creates the method or sink at start-up; Gatehouse checks them with the rest
/// of the configuration so that every problem is reported at once, and also reports keys no method knows.
/// </summary>
internal static class MethodConfigRules
{
    private enum Kind
    {
        String,
        Bool,
        Int,
        Duration,
        FileMode,
    }

    private sealed record Key(string Name, Kind Kind, bool Required = false);

    private static readonly Dictionary<string, Key[]> MethodKeys = new(StringComparer.Ordinal)
    {
        ["approle"] =
        [
            new("role_id_file_path", Kind.String, Required: true), new("secret_id_file_path", Kind.String),
            new("remove_secret_id_file_after_reading", Kind.Bool), new("secret_id_response_wrapping_path", Kind.String),
        ],
        ["token_file"] = [new("token_file_path", Kind.String, Required: true)],
        ["jwt"] =
        [
            new("path", Kind.String, Required: true), new("role", Kind.String, Required: true),
            new("remove_jwt_after_reading", Kind.Bool), new("remove_jwt_follows_symlinks", Kind.Bool),
            new("jwt_read_period", Kind.Duration),
        ],
        ["kubernetes"] = [new("role", Kind.String, Required: true), new("token_path", Kind.String)],
        ["cf"] = [new("role", Kind.String, Required: true)],
        ["pcf"] = [new("role", Kind.String, Required: true)],
        ["ldap"] =
        [
            new("username", Kind.String, Required: true), new("password_file_path", Kind.String, Required: true),
            new("remove_password_after_reading", Kind.Bool), new("remove_password_follows_symlinks", Kind.Bool),
            new("password_read_period", Kind.Duration),
        ],
        ["kerberos"] =
        [
            new("username", Kind.String, Required: true), new("service", Kind.String, Required: true),
            new("realm", Kind.String, Required: true), new("keytab_path", Kind.String, Required: true),
            new("krb5conf_path", Kind.String, Required: true), new("disable_fast_negotiation", Kind.Bool),
            new("remove_instance_name", Kind.Bool),
        ],
        ["azure"] =
        [
            new("role", Kind.String, Required: true), new("resource", Kind.String, Required: true),
            new("object_id", Kind.String), new("client_id", Kind.String), new("scope", Kind.String),
            new("authenticate_from_environment", Kind.Bool), new("imds_endpoint", Kind.String),
        ],
        ["gcp"] =
        [
            new("type", Kind.String, Required: true), new("role", Kind.String, Required: true), new("credentials", Kind.String),
            new("service_account", Kind.String), new("project", Kind.String), new("jwt_exp", Kind.Int),
            new("iam_credentials_endpoint", Kind.String),
        ],
        ["aws"] =
        [
            new("type", Kind.String, Required: true), new("role", Kind.String, Required: true), new("access_key", Kind.String),
            new("secret_key", Kind.String), new("session_token", Kind.String), new("header_value", Kind.String),
            new("nonce", Kind.String), new("region", Kind.String), new("credential_poll_interval", Kind.Int),
        ],
        ["alicloud"] =
        [
            new("role", Kind.String, Required: true), new("region", Kind.String, Required: true),
            new("credential_poll_interval", Kind.Int), new("access_key", Kind.String), new("access_secret", Kind.String),
            new("access_token", Kind.String), new("role_arn", Kind.String), new("role_session_name", Kind.String),
            new("role_session_expiration", Kind.Int), new("private_key", Kind.String), new("public_key_id", Kind.String),
            new("session_expiration", Kind.Int), new("role_name", Kind.String), new("sts_endpoint", Kind.String),
            new("metadata_endpoint", Kind.String),
        ],
        ["oci"] = [new("type", Kind.String, Required: true), new("role", Kind.String, Required: true), new("credential_poll_interval", Kind.Duration)],
        ["cert"] =
        [
            new("name", Kind.String), new("ca_cert", Kind.String), new("client_cert", Kind.String),
            new("client_key", Kind.String), new("reload", Kind.Bool),
        ],
    };

    private static readonly Key[] FileSinkKeys =
    [
        new("path", Kind.String, Required: true), new("mode", Kind.FileMode), new("uid", Kind.Int), new("gid", Kind.Int),
    ];

    /// <summary>Every <c>config</c> key of every method and of the file sink, with the block path messages use.</summary>
    public static IEnumerable<KnownKey> KnownKeys =>
        MethodKeys.SelectMany(m => m.Value.Select(k => new KnownKey($"auto_auth.method \"{m.Key}\".config", k.Name, KnownKey.Use.Read)))
            .Concat(FileSinkKeys.Select(k => new KnownKey("auto_auth.sink \"file\".config", k.Name, KnownKey.Use.Read)));

    public static void Check(AuthMethodConfig method, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        if (!MethodKeys.TryGetValue(method.Type, out var keys))
            return;
        CheckMap(method.Config, keys, path, diagnostics, key => $"missing '{key}' value; set {key} in the method's config block");

        if (method.Type == "approle" && method.Config.GetString("secret_id_response_wrapping_path") is "")
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("secret_id_response_wrapping_path"),
                $"{path}.config.secret_id_response_wrapping_path",
                "secret_id_response_wrapping_path must not be empty when it is set; remove it or give the wrapping path"));
        }

        if (method.Type == "jwt" && method.Config.GetDuration("jwt_read_period") is { } period && period <= TimeSpan.Zero)
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("jwt_read_period"), $"{path}.config.jwt_read_period",
                "jwt_read_period must be positive, such as \"500ms\" or \"1m\""));
        }

        if (method.Type == "ldap" && method.Config.GetDuration("password_read_period") is { } passwordPeriod && passwordPeriod <= TimeSpan.Zero)
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("password_read_period"), $"{path}.config.password_read_period",
                "error parsing 'password_read_period' value into a positive value; use a duration such as \"500ms\" or \"1m\""));
        }

        if (method.Type == "kerberos" && method.Config.Contains("remove_instance_name"))
        {
            // Vault's CLI reads it; Vault Agent's method does not (it uses the keytab's principals as written), so a
            // config relying on it would not do what it says.
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("remove_instance_name"), $"{path}.config.remove_instance_name",
                "remove_instance_name is read by `vault login -method=kerberos` only; Vault Agent/Proxy's kerberos method ignores it, " +
                "and so would Gatehouse: remove it (to strip instance names on Vault's side, set remove_instance_name in auth/<mount>/config)"));
        }

        if (method.Type == "azure")
        {
            CheckAzure(method, path, diagnostics);
        }

        if (method.Type == "aws")
        {
            CheckAws(method, path, diagnostics);
        }

        if (method.Type == "alicloud")
        {
            AlicloudConfigRules.Check(method, path, diagnostics);
        }

        if (method.Type == "oci")
        {
            CheckOci(method, path, diagnostics);
        }

        if (method.Type == "gcp" && method.Config.GetString("type") is { Length: > 0 } gcpType)
        {
            CheckGcpType(method, gcpType, path, diagnostics);
        }

        if (method.Type == "cert" && method.Config.Contains("client_cert") != method.Config.Contains("client_key"))
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.Position, $"{path}.config",
                "client_cert and client_key must be set together"));
        }
    }

    /// <summary>
    /// Vault's NewAzureAuthMethod checks beyond the key rules (an empty role or resource is reported as missing, as for
    /// every method): not both object_id and client_id.
    /// </summary>
    private static void CheckAzure(AuthMethodConfig method, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        if (method.Config.GetString("object_id") is { Length: > 0 } && method.Config.GetString("client_id") is { Length: > 0 })
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("client_id"), $"{path}.config",
                "only one of 'object_id' or 'client_id' may be provided"));
        }
    }

    /// <summary>
    /// Vault Agent accepts <c>gce</c> and <c>iam</c> (<c>'type' value is invalid</c> otherwise). Beyond Vault, for
    /// <c>iam</c>: <c>credentials</c> must be a JSON object (Vault silently falls back to Application Default Credentials
    /// when it is not) and <c>jwt_exp</c> must not be negative (Vault would sign a JWT that expired already).
    /// </summary>
    private static void CheckGcpType(AuthMethodConfig method, string type, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        var at = method.Config.PositionOf("type");
        if (type != "gce" && type != "iam")
        {
            diagnostics.Add(new ConfigDiagnostic(at, $"{path}.config.type",
                $"'type' value is invalid: \"{type}\"; use \"gce\" or \"iam\""));
            return;
        }

        if (method.Config.GetString("credentials") is { Length: > 0 } credentials && !IsJsonObject(credentials))
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("credentials"), $"{path}.config.credentials",
                "credentials must be the JSON of a Google credentials file (such as a service account key) itself, not a path; " +
                "to name a file, set GOOGLE_APPLICATION_CREDENTIALS to its path instead"));
        }

        if (method.Config.Values.TryGetValue("jwt_exp", out var node) && ValueParser.TryInt32(node, out var minutes, out _) && minutes < 0)
        {
            diagnostics.Add(new ConfigDiagnostic(node.Position, $"{path}.config.jwt_exp",
                "jwt_exp must not be negative: it is the signed JWT's lifetime in minutes (0 or unset: 15)"));
        }
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Vault's NewAWSAuthMethod and awsutil's credential chain checks beyond the key rules: <c>type</c> is <c>iam</c> or
    /// <c>ec2</c> (<c>'type' value is invalid</c>); <c>access_key</c> and <c>secret_key</c> come together; and
    /// <c>credential_poll_interval</c> (whole seconds) is positive, where Go's ticker would panic.
    /// </summary>
    private static void CheckAws(AuthMethodConfig method, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        if (method.Config.GetString("type") is { Length: > 0 } type && type is not ("iam" or "ec2"))
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("type"), $"{path}.config.type",
                $"'type' value is invalid: \"{type}\"; use \"iam\" or \"ec2\""));
        }

        var hasAccessKey = method.Config.GetString("access_key") is { Length: > 0 };
        var hasSecretKey = method.Config.GetString("secret_key") is { Length: > 0 };
        if (hasAccessKey != hasSecretKey)
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf(hasAccessKey ? "access_key" : "secret_key"), $"{path}.config",
                "static AWS client credentials haven't been properly configured (the access key or secret key were provided but not both); " +
                "set both access_key and secret_key, or neither to use the AWS SDK's credential chain"));
        }

        if (method.Config.Values.TryGetValue("credential_poll_interval", out var node)
            && ValueParser.TryInt32(node, out var seconds, out _) && seconds <= 0)
        {
            diagnostics.Add(new ConfigDiagnostic(node.Position, $"{path}.config.credential_poll_interval",
                "credential_poll_interval must be a positive number of seconds, such as 60"));
        }
    }

    /// <summary>
    /// Vault's NewOCIAuthMethod checks beyond the key rules: <c>type</c> is <c>apikey</c> or <c>instance</c>
    /// (<c>'type' value is invalid</c>), and <c>credential_poll_interval</c> is positive, where Go's ticker would panic.
    /// </summary>
    private static void CheckOci(AuthMethodConfig method, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        var type = method.Config.GetString("type");
        if (type is { Length: > 0 } and not ("apikey" or "instance"))
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("type"), $"{path}.config.type",
                $"'type' value is invalid: \"{type}\"; use \"apikey\" or \"instance\""));
        }

        if (method.Config.GetDuration("credential_poll_interval") is { } interval && interval <= TimeSpan.Zero)
        {
            diagnostics.Add(new ConfigDiagnostic(method.Config.PositionOf("credential_poll_interval"), $"{path}.config.credential_poll_interval",
                "credential_poll_interval must be positive, such as \"60s\" or 60"));
        }
    }

    public static void CheckFileSink(SinkConfig sink, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        CheckMap(sink.Config, FileSinkKeys, path, diagnostics,
            _ => "'path' not specified for file sink; set config { path = \"/path/to/token\" }");
        if (sink.Config.GetFileMode("mode") is > 0b111_111_111)
        {
            diagnostics.Add(new ConfigDiagnostic(sink.Config.PositionOf("mode"), $"{path}.config.mode",
                "file mode does not represent a regular file; a sink's mode must be 0000–0777, such as 0640"));
        }
    }

    /// <summary>A sink's wrapping and DH-encryption keys (outside its <c>config</c> map), for any sink type.</summary>
    public static void CheckSinkEncryption(SinkConfig sink, string path, ICollection<ConfigDiagnostic> diagnostics)
    {
        void Error(string message) => diagnostics.Add(new ConfigDiagnostic(sink.Position, path, message));
        var hasDhType = !string.IsNullOrEmpty(sink.DhType);
        if (hasDhType && sink.DhType != "curve25519")
            Error($"invalid value for 'dh_type'; the only dh_type is \"curve25519\", got \"{sink.DhType}\"");
        if (hasDhType != !string.IsNullOrEmpty(sink.DhPath))
            Error("'dh_type' and 'dh_path' must be specified together");
        if (!hasDhType && !string.IsNullOrEmpty(sink.Aad))
            Error("specifying AAD data without 'dh_type' does not make sense; set dh_type and dh_path, or remove aad");
        if (!hasDhType && !string.IsNullOrEmpty(sink.AadEnvVar) && string.IsNullOrEmpty(sink.Aad))
            Error("specifying AAD data without 'dh_type' does not make sense; set dh_type and dh_path, or remove aad_env_var");
        if (!hasDhType && sink.DeriveKey)
            Error("specifying 'derive_key' data without 'dh_type' does not make sense; set dh_type and dh_path, or remove derive_key");
        if (sink.WrapTtl is { } sinkTtl && sinkTtl < TimeSpan.Zero)
            diagnostics.Add(new ConfigDiagnostic(sink.Position, $"{path}.wrap_ttl", "wrap_ttl must not be negative"));
    }

    private static void CheckMap(
        ConfigMap map, Key[] keys, string path, ICollection<ConfigDiagnostic> diagnostics, Func<string, string> missing)
    {
        var configPath = $"{path}.config";
        foreach (var key in keys)
        {
            if (!map.Values.TryGetValue(key.Name, out var node))
            {
                if (key.Required)
                    diagnostics.Add(new ConfigDiagnostic(map.Position, path, missing(key.Name)));
                continue;
            }

            string error;
            var ok = key.Kind switch
            {
                Kind.String => ValueParser.TryString(node, out _, out error),
                Kind.Bool => ValueParser.TryBool(node, out _, out error),
                Kind.Int => ValueParser.TryInt32(node, out _, out error),
                Kind.Duration => ValueParser.TryDuration(node, out _, out error),
                _ => ValueParser.TryFileMode(node, out _, out error),
            };
            if (!ok && key.Kind == Kind.FileMode && !error.StartsWith("file mode", StringComparison.Ordinal))
                error = $"could not parse '{key.Name}' as integer; {error}";
            if (!ok)
                diagnostics.Add(new ConfigDiagnostic(node.Position, $"{configPath}.{key.Name}", error));
            else if (key.Required && key.Kind == Kind.String && string.IsNullOrWhiteSpace(map.GetString(key.Name)))
                diagnostics.Add(new ConfigDiagnostic(node.Position, path, missing(key.Name)));
        }

        var names = keys.Select(k => k.Name).ToArray();
        foreach (var name in map.Values.Keys.OrderBy(k => map.KeyPositionOf(k).Line).ThenBy(k => map.KeyPositionOf(k).Column))
        {
            if (names.Contains(name))
                continue;
            var suggestion = BlockReader.Suggest(name, names);
            diagnostics.Add(new ConfigDiagnostic(map.KeyPositionOf(name), configPath, $"unknown key \"{name}\"" +
                (suggestion is not null ? $"; did you mean {suggestion}?" : $"; valid keys here: {string.Join(", ", names)}")));
        }
    }
}
