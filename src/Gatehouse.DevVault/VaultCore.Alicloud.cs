using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// alicloud auth (vault-plugin-auth-alicloud). Paths: <c>role</c> (LIST), <c>role/&lt;name&gt;</c> (<c>arn</c>, a RAM
/// role ARN <c>acs:ram::&lt;account&gt;:role/&lt;name&gt;</c>, required; the token keys) and <c>login</c> (<c>role</c>,
/// <c>identity_request_url</c>, <c>identity_request_headers</c>, both base64). Vault sends the login's signed STS
/// <c>GetCallerIdentity</c> call on to Alibaba Cloud; DevVault cannot, so after the plugin's own checks of the URL
/// (https, <c>RegionId</c>, the region's STS host, <c>Format=JSON</c>, <c>Action=GetCallerIdentity</c>) it answers as
/// STS would: the access key must be a known test identity (DevVault-only path <c>dev/sts_identities</c>:
/// access_key, access_secret, optional security_token, arn, optional expired), its STS token must match, the RPC
/// signature v1 (HMAC-SHA1 over the POP-canonicalized query, checked here independently of Gatehouse's signer) must
/// verify with its secret, the timestamp must be within 15 minutes of DevVault's clock and the nonce unused. The
/// caller's ARN must be an assumed role of the role's ARN. Errors read as the plugin's; STS's bodies are guesses
/// (docs/devvault.md).
/// </summary>
internal sealed partial class VaultCore
{
    private static readonly TimeSpan AlicloudTimestampWindow = TimeSpan.FromMinutes(15);

    private sealed class AlicloudState
    {
        public SortedDictionary<string, JsonObject> Roles { get; } = new(StringComparer.Ordinal);
        public JsonArray Identities { get; set; } = [];
        public HashSet<string> Nonces { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);
    }

    private static AlicloudState AlicloudStateOf(Mount m) => (AlicloudState)(m.State ??= new AlicloudState());

    // The plugin returns plain Go errors, which Vault answers with 500 and its multierror text.
    private static VaultResponse AlicloudError(string message) => VaultResponse.Error(500, $"1 error occurred:\n\t* {message}\n\n");

    private VaultResponse HandleAlicloud(VaultRequest req, Mount mount, string sub)
    {
        var state = AlicloudStateOf(mount);
        if (sub == "dev/sts_identities")
        {
            switch (req.Operation)
            {
                case "create" or "update":
                    state.Identities = req.Body["identities"] as JsonArray is { } list ? (JsonArray)list.DeepClone() : [];
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: role =>
                role["arn"]?.ToString() is not { Length: > 0 } arn ? AlicloudError("the arn is required to create a role")
                : ParseAlicloudArn(arn, out var parsed) is { } problem ? AlicloudError($"unable to parse arn {arn}: {problem}")
                : parsed.Type != "role" ? AlicloudError($"only role arn types are supported at this time, but {arn} was provided")
                : null) is { } answer)
        {
            return answer;
        }
        return VaultResponse.UnsupportedPath();
    }

    private VaultResponse AlicloudLogin(VaultRequest req, Mount mount)
    {
        var state = AlicloudStateOf(mount);
        var b64Url = req.Body["identity_request_url"]?.ToString() ?? "";
        if (b64Url.Length == 0)
        {
            return AlicloudError("missing identity_request_url");
        }
        if (!TryBase64(req.Body["identity_request_url"], out var urlBytes))
        {
            return AlicloudError("failed to base64 decode identity_request_url: illegal base64 data");
        }
        var rawUrl = Encoding.UTF8.GetString(urlBytes);
        if (!Uri.TryCreate(rawUrl, UriKind.Absolute, out var url))
        {
            return AlicloudError("error parsing identity_request_url: invalid URL");
        }
        if (!TryBase64(req.Body["identity_request_headers"], out var headerBytes) || ParseGoHeaders(headerBytes) is not { } headers)
        {
            return VaultResponse.BadRequest("error converting input for field \"identity_request_headers\": headers must be base64-encoded JSON");
        }
        if (headers.Count == 0)
        {
            return AlicloudError("missing identity_request_headers");
        }

        // Vault's checks that the URL is Alibaba's STS and the GetCallerIdentity call.
        // The query as sent (Uri.Query may re-escape it); the fragment is not part of it.
        var queryStart = rawUrl.IndexOf('?', StringComparison.Ordinal);
        var query = ParseGoQuery(queryStart < 0 ? "" : rawUrl[(queryStart + 1)..].Split('#')[0]);
        var regionId = query.GetValueOrDefault("RegionId", "");
        var expectedHost = $"sts.{regionId}.aliyuncs.com";
        string? urlProblem = url.Scheme != "https" ? $"expected \"https\" url scheme but received \"{url.Scheme}\""
            : regionId.Length == 0 ? "query RegionId must not be empty"
            : url.Authority != expectedHost ? $"expected host of \"{expectedHost}\" but received \"{url.Authority}\""
            : query.GetValueOrDefault("Format") != "JSON" ? $"query Format must be JSON but received {query.GetValueOrDefault("Format", "")}"
            : query.GetValueOrDefault("Action") != "GetCallerIdentity" ? $"query Action must be GetCallerIdentity but received {query.GetValueOrDefault("Action", "")}"
            : null;
        if (urlProblem is not null)
        {
            return AlicloudError($"error making upstream request: {urlProblem}");
        }

        if (AlicloudStubSts(state, req.Now, query, out var status) is { } stsError)
        {
            return AlicloudError($"error making upstream request: received {status} checking caller identity: {stsError}");
        }
        var identity = state.Identities.OfType<JsonObject>().First(i => i["access_key"]?.ToString() == query["AccessKeyId"]);
        var arn = identity["arn"]?.ToString() ?? "";
        if (ParseAlicloudArn(arn, out var caller) is { } arnProblem)
        {
            return AlicloudError($"unable to parse entity's arn {arn} due to {arnProblem}");
        }
        if (caller.Type != "assumed-role")
        {
            return AlicloudError($"only assumed-role arn types are supported at this time, but {caller.Type} was provided");
        }

        var roleName = req.Body["role"]?.ToString() ?? "";
        if (roleName.Length == 0)
        {
            return AlicloudError("missing role");
        }
        if (!state.Roles.TryGetValue(roleName.ToLowerInvariant(), out var role))
        {
            return AlicloudError($"entry for role {roleName} not found");
        }
        ParseAlicloudArn(role["arn"]?.ToString() ?? "", out var bound);
        if (bound.Type != "role" || bound.Account != caller.Account || bound.RoleName != caller.RoleName)
        {
            return AlicloudError("the caller's arn does not match the role's arn");
        }

        var principalId = $"{caller.Account}{caller.RoleName}:{caller.Session}";
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["account_id"] = caller.Account,
            ["user_id"] = principalId,
            ["role_id"] = caller.Account + caller.RoleName,
            ["arn"] = arn,
            ["identity_type"] = "AssumedRoleUser",
            ["principal_id"] = principalId,
            ["request_id"] = Ids.Uuid(),
            ["role_name"] = roleName,
        };
        if (!state.Entities.TryGetValue(principalId, out var entity))
        {
            entity = state.Entities[principalId] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + principalId, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }

    /// <summary>
    /// What STS answers to the signed GetCallerIdentity: null, or its HTTP status and its JSON error body (as Vault quotes it).
    /// </summary>
    private static string? AlicloudStubSts(AlicloudState state, DateTimeOffset now, Dictionary<string, string> query, out int status)
    {
        status = 400;
        static string Error(string code, string message) =>
            $"{{\"RequestId\":\"{Ids.Uuid().ToUpperInvariant()}\",\"HostId\":\"sts.aliyuncs.com\",\"Code\":\"{code}\",\"Message\":\"{message}\"}}";
        var accessKeyId = query.GetValueOrDefault("AccessKeyId", "");
        var identity = state.Identities.OfType<JsonObject>().FirstOrDefault(i => i["access_key"]?.ToString() == accessKeyId);
        if (identity is null)
        {
            status = 404;
            return Error("InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        }
        if ((identity["security_token"]?.ToString() ?? "") != query.GetValueOrDefault("SecurityToken", ""))
        {
            return Error("InvalidSecurityToken.MismatchWithAccessKey", "The security token you provided does not match the access key.");
        }
        if (identity["expired"]?.GetValue<bool>() == true)
        {
            return Error("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
        }
        if (query.GetValueOrDefault("SignatureMethod") != "HMAC-SHA1" || query.GetValueOrDefault("SignatureVersion") != "1.0")
        {
            return Error("InvalidParameter.SignatureMethod", "The specified parameter SignatureMethod or SignatureVersion is not valid.");
        }

        // Signature v1: HMAC-SHA1 keyed "<secret>&" over "POST&%2F&" + escape(sorted "k=v" pairs, each escaped).
        var signed = query.Where(p => p.Key != "Signature").OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value));
        var stringToSign = "POST&" + Uri.EscapeDataString("/") + "&" + Uri.EscapeDataString(string.Join("&", signed));
#pragma warning disable CA5350 // Alibaba's signature version 1.0 is HMAC-SHA1.
        using var hmac = new HMACSHA1(Encoding.UTF8.GetBytes((identity["access_secret"]?.ToString() ?? "") + "&"));
#pragma warning restore CA5350
        var expected = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(query.GetValueOrDefault("Signature", ""))))
        {
            return Error("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
        }
        if (!DateTimeOffset.TryParseExact(query.GetValueOrDefault("Timestamp"), "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            return Error("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.");
        }
        if (timestamp < now - AlicloudTimestampWindow || timestamp > now + AlicloudTimestampWindow)
        {
            return Error("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
        }
        if (!state.Nonces.Add(query.GetValueOrDefault("SignatureNonce", "")))
        {
            return Error("SignatureNonceUsed", "Specified signature nonce was used already.");
        }
        return null;
    }

    private readonly record struct AlicloudArn(string Account, string Type, string RoleName, string Session);

    /// <summary>The plugin's parseARN: <c>acs:ram::&lt;account&gt;:(role|assumed-role)/&lt;name&gt;[/&lt;session&gt;]</c>.</summary>
    private static string? ParseAlicloudArn(string arn, out AlicloudArn parsed)
    {
        parsed = default;
        if (arn.Length == 0)
        {
            return "no arn provided";
        }
        var fields = arn.Split(':');
        if (fields.Length != 5)
        {
            return $"unrecognized arn: contains {fields.Length} colon-separated fields, expected 5";
        }
        if (fields[0] != "acs")
        {
            return "unrecognized arn: does not begin with \"acs:\"";
        }
        if (fields[1] != "ram")
        {
            return $"unrecognized service: {fields[1]}, not ram";
        }
        var role = fields[4].Split('/');
        if (role.Length < 2)
        {
            return $"unrecognized arn: \"{fields[4]}\" contains fewer than 2 slash-separated roleFields";
        }
        if (role[0] is not ("role" or "assumed-role"))
        {
            return $"unsupported parsed type: {role[0]}";
        }
        parsed = new AlicloudArn(fields[3], role[0], role[1], role.Length > 2 ? role[2] : "");
        return null;
    }

    /// <summary>Go's <c>url.ParseQuery</c> (first value of each name): <c>+</c> is a space, <c>%XX</c> a byte.</summary>
    private static Dictionary<string, string> ParseGoQuery(string query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0].Replace('+', ' '));
            values.TryAdd(key, kv.Length > 1 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : "");
        }
        return values;
    }
}
