using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// aws auth, iam and ec2. Vault sends an iam login's signed <c>GetCallerIdentity</c> request on to STS; DevVault cannot,
/// so it answers as STS would: it checks the SigV4 signature (<see cref="SigV4"/>) with the secret key of a known test
/// identity (DevVault-only config key <c>dev_sts_identities</c> of <c>config/client</c>: access_key, secret_key, arn,
/// optional session_token, optional expired), that the request is fresh (STS's 15 minutes), and names that identity's
/// ARN. ec2 logins are checked against the certificates of <c>config/certificate/&lt;name&gt;</c> (PKCS#7 with SignedCms,
/// or the document signature as RSA with SHA-256), without DescribeInstances (so no instance-state check), with
/// Vault's nonce rule (the first login records the nonce, a different one later is refused). Paths: <c>config/client</c>,
/// <c>config/certificate/&lt;name&gt;</c>, <c>role/&lt;name&gt;</c>, <c>login</c>.
/// </summary>
internal sealed partial class VaultCore
{
    private static readonly TimeSpan StsClockSkew = TimeSpan.FromMinutes(15);

    private sealed class AwsState
    {
        public JsonObject Client { get; set; } = [];
        public Dictionary<string, JsonObject> Certificates { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, JsonObject> Roles { get; } = new(StringComparer.Ordinal);

        /// <summary>The identity access list: instance id → the nonce of its first login.</summary>
        public Dictionary<string, string> Nonces { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);
    }

    private static AwsState AwsStateOf(Mount m) => (AwsState)(m.State ??= new AwsState());

    private VaultResponse HandleAws(VaultRequest req, Mount mount, string sub)
    {
        var state = AwsStateOf(mount);
        var op = req.Operation;
        if (sub == "config/client")
        {
            switch (op)
            {
                case "read":
                    var shown = (JsonObject)state.Client.DeepClone();
                    shown.Remove("secret_key");
                    shown.Remove("dev_sts_identities");
                    return state.Client.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(shown);
                case "create" or "update":
                    var config = (JsonObject)state.Client.DeepClone();
                    foreach (var (key, value) in req.Body)
                    {
                        config[key] = value?.DeepClone();
                    }
                    state.Client = config;
                    return VaultResponse.NoContent();
                case "delete":
                    state.Client = [];
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        if (sub.StartsWith("config/certificate/", StringComparison.Ordinal))
        {
            var name = sub["config/certificate/".Length..];
            switch (op)
            {
                case "read":
                    return state.Certificates.TryGetValue(name, out var c) ? VaultResponse.Ok(c.DeepClone()) : VaultResponse.NotFound();
                case "create" or "update":
                    var pem = req.Body["aws_public_cert"]?.ToString() ?? "";
                    if (ParseAwsCertificate(pem) is null)
                    {
                        return VaultResponse.BadRequest("invalid certificate; failed to decode and parse certificate");
                    }
                    var type = req.Body["type"]?.ToString() is { Length: > 0 } t ? t : "pkcs7";
                    if (type is not ("pkcs7" or "identity"))
                    {
                        return VaultResponse.BadRequest($"invalid certificate type \"{type}\"; must be \"pkcs7\" or \"identity\"");
                    }
                    state.Certificates[name] = new JsonObject { ["aws_public_cert"] = pem, ["type"] = type };
                    return VaultResponse.NoContent();
                case "delete":
                    state.Certificates.Remove(name);
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        if (RoleEndpoint(req, sub, state.Roles, validate: role =>
                role["auth_type"]?.ToString() is { Length: > 0 } authType && authType is not ("iam" or "ec2")
                    ? VaultResponse.BadRequest($"unrecognized auth_type: {authType}")
                    : null) is { } answer)
        {
            return answer;
        }
        return VaultResponse.UnsupportedPath();
    }

    private static X509Certificate2? ParseAwsCertificate(string pem)
    {
        try
        {
            return pem.Contains("-----BEGIN", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(pem)
                : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(pem));
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private VaultResponse AwsLogin(VaultRequest req, Mount mount) =>
        req.Body["iam_http_request_method"]?.ToString() is { Length: > 0 } method
            ? AwsIamLogin(req, mount, method)
            : AwsEc2Login(req, mount);

    private VaultResponse AwsIamLogin(VaultRequest req, Mount mount, string method)
    {
        var state = AwsStateOf(mount);
        if (method != "POST")
        {
            return VaultResponse.BadRequest("invalid iam_http_request_method; currently only 'POST' is supported");
        }
        if (!TryBase64(req.Body["iam_request_url"], out var urlBytes) || !Uri.TryCreate(Encoding.UTF8.GetString(urlBytes), UriKind.Absolute, out var url))
        {
            return VaultResponse.BadRequest("failed to base64 decode iam_request_url");
        }
        if (url.AbsolutePath != "/" || url.Query.Length > 1)
        {
            return VaultResponse.BadRequest("error validating iam_request_url: invalid request: the request path must be \"/\" with no query");
        }
        if (!TryBase64(req.Body["iam_request_body"], out var body))
        {
            return VaultResponse.BadRequest("failed to base64 decode iam_request_body");
        }
        var form = Encoding.UTF8.GetString(body).Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "", StringComparer.Ordinal);
        if (!form.TryGetValue("Action", out var action) || action != "GetCallerIdentity")
        {
            return VaultResponse.BadRequest("error validating iam_request_body: iam_request_body must have 'Action=GetCallerIdentity'");
        }
        if (!TryBase64(req.Body["iam_request_headers"], out var headerBytes) || ParseGoHeaders(headerBytes) is not { } headers)
        {
            return VaultResponse.BadRequest("failed to base64 decode iam_request_headers or parse them as JSON");
        }
        var authorization = SigV4.ParseAuthorization(headers.GetValueOrDefault("authorization"));

        // Vault: the server-ID header must be present, equal, and among the signed headers.
        if (state.Client["iam_server_id_header_value"]?.ToString() is { Length: > 0 } required)
        {
            const string header = "X-Vault-AWS-IAM-Server-ID";
            string? problem = !headers.TryGetValue("x-vault-aws-iam-server-id", out var provided) ? $"missing header \"{header}\""
                : provided != required ? $"expected \"{required}\" but got \"{provided}\""
                : authorization is null || !authorization.SignedHeaders.Contains("x-vault-aws-iam-server-id") ? $"header {header} is not signed"
                : null;
            if (problem is not null)
            {
                return VaultResponse.BadRequest($"error validating {header} header: {problem}");
            }
        }

        if (StubSts(state, req.Now, url, headers, authorization, body, out var arn) is { } stsError)
        {
            return VaultResponse.BadRequest($"error making upstream request: received error code 403 from STS: {stsError}");
        }

        // arn:aws:iam::<account>:user/<name>, or arn:aws:sts::<account>:assumed-role/<role>/<session>.
        var arnParts = arn.Split(':', 6);
        var account = arnParts.Length == 6 ? arnParts[4] : "";
        var resource = arnParts.Length == 6 ? arnParts[5].Split('/') : [];
        var canonical = resource is ["assumed-role", var roleName, ..] ? $"arn:aws:iam::{account}:role/{roleName}" : arn;
        var friendlyName = resource.Length >= 2 ? resource[1] : "";

        var role = req.Body["role"]?.ToString() is { Length: > 0 } r ? r : friendlyName;
        if (!state.Roles.TryGetValue(role.ToLowerInvariant(), out var entry))
        {
            return VaultResponse.BadRequest($"entry for role \"{role}\" not found");
        }
        if ((entry["auth_type"]?.ToString() is { Length: > 0 } t ? t : "iam") != "iam")
        {
            return VaultResponse.BadRequest($"auth method iam not allowed for role {role}");
        }
        var bound = StringList(entry["bound_iam_principal_arn"]);
        if (bound.Count > 0 && !bound.Any(b => b == canonical || (b.EndsWith('*') && canonical.StartsWith(b[..^1], StringComparison.Ordinal))))
        {
            return VaultResponse.BadRequest($"IAM Principal \"{arn}\" does not belong to the role \"{role}\"");
        }
        var accounts = StringList(entry["bound_account_id"]);
        if (accounts.Count > 0 && !accounts.Contains(account))
        {
            return VaultResponse.BadRequest($"account ID \"{account}\" does not belong to role \"{role}\"");
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["account_id"] = account,
            ["auth_type"] = "iam",
            ["canonical_arn"] = canonical,
            ["client_arn"] = arn,
            ["role"] = role,
        };
        if (!state.Entities.TryGetValue(canonical, out var entity))
        {
            entity = state.Entities[canonical] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(entry, mount, meta, mount.Type + "-" + canonical, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }

    /// <summary>
    /// What STS answers to the signed GetCallerIdentity: null and the caller's ARN, or STS's error body (its XML, as
    /// Vault quotes it).
    /// </summary>
    private static string? StubSts(AwsState state, DateTimeOffset now, Uri url, Dictionary<string, string> headers,
        SigV4.Authorization? authorization, byte[] body, out string arn)
    {
        arn = "";
        static string Error(string code, string message) =>
            $"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code>" +
            $"<Message>{message}</Message></Error><RequestId>{Ids.Uuid()}</RequestId></ErrorResponse>";
        if (authorization is null || authorization.Service != "sts")
        {
            return Error("IncompleteSignature", "Request must contain a signature that conforms to AWS standards");
        }
        var identity = (state.Client["dev_sts_identities"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(i => i["access_key"]?.ToString() == authorization.AccessKeyId);
        if (identity is null)
        {
            return Error("InvalidClientTokenId", "The security token included in the request is invalid.");
        }
        var sessionToken = identity["session_token"]?.ToString() ?? "";
        if (sessionToken != headers.GetValueOrDefault("x-amz-security-token", ""))
        {
            return Error("InvalidClientTokenId", "The security token included in the request is invalid.");
        }
        if (identity["expired"]?.GetValue<bool>() == true)
        {
            return Error("ExpiredToken", "The security token included in the request is expired");
        }
        if (!SigV4.TryParseAmzDate(headers.GetValueOrDefault("x-amz-date"), out var signedAt) || !authorization.SignedHeaders.Contains("x-amz-date"))
        {
            return Error("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }
        var expected = SigV4.Sign(identity["secret_key"]?.ToString() ?? "", "POST", url, headers, authorization.SignedHeaders, body,
            headers["x-amz-date"], authorization.Date, authorization.Region, authorization.Service);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(authorization.Signature)))
        {
            return Error("SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }
        if (signedAt < now - StsClockSkew || signedAt > now + StsClockSkew)
        {
            static string F(DateTimeOffset d) => d.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            return Error("SignatureDoesNotMatch", signedAt < now
                ? $"Signature expired: {F(signedAt)} is now earlier than {F(now - StsClockSkew)} ({F(now)} - 15 min.)"
                : $"Signature not yet current: {F(signedAt)} is still later than {F(now + StsClockSkew)} ({F(now)} + 15 min.)");
        }
        arn = identity["arn"]?.ToString() ?? "";
        return null;
    }

    private VaultResponse AwsEc2Login(VaultRequest req, Mount mount)
    {
        var state = AwsStateOf(mount);
        byte[] document;
        if (req.Body["pkcs7"]?.ToString() is { Length: > 0 } pkcs7)
        {
            if (VerifyPkcs7(state, pkcs7) is not { } content)
            {
                return VaultResponse.BadRequest("failed to verify the signature of the PKCS#7 instance identity document");
            }
            document = content;
        }
        else if (req.Body["identity"] is not null && req.Body["signature"] is not null)
        {
            if (!TryBase64(req.Body["identity"], out document))
            {
                return VaultResponse.BadRequest("failed to base64 decode the instance identity document");
            }
            if (!TryBase64(req.Body["signature"], out var signature) || !VerifyIdentitySignature(state, document, signature))
            {
                return VaultResponse.BadRequest("failed to verify the instance identity document using the identity signature");
            }
        }
        else
        {
            return VaultResponse.BadRequest("either pkcs7 or a tuple containing the instance identity document and its signature must be supplied");
        }

        JsonObject doc;
        try
        {
            doc = JsonNode.Parse(document) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return VaultResponse.BadRequest("failed to unmarshal the instance identity document");
        }
        var instanceId = doc["instanceId"]?.ToString() ?? "";
        var account = doc["accountId"]?.ToString() ?? "";
        var region = doc["region"]?.ToString() ?? "";
        var ami = doc["imageId"]?.ToString() ?? "";
        if (instanceId.Length == 0)
        {
            return VaultResponse.BadRequest("instance ID not found in the instance identity document");
        }

        var role = req.Body["role"]?.ToString() is { Length: > 0 } r ? r : ami;
        if (!state.Roles.TryGetValue(role.ToLowerInvariant(), out var entry))
        {
            return VaultResponse.BadRequest($"entry for role \"{role}\" not found");
        }
        if ((entry["auth_type"]?.ToString() is { Length: > 0 } t ? t : "iam") != "ec2")
        {
            return VaultResponse.BadRequest($"auth method ec2 not allowed for role {role}");
        }
        var amis = StringList(entry["bound_ami_id"]);
        if (amis.Count > 0 && !amis.Contains(ami))
        {
            return VaultResponse.BadRequest($"AMI ID \"{ami}\" does not belong to role \"{role}\"");
        }
        var accounts = StringList(entry["bound_account_id"]);
        if (accounts.Count > 0 && !accounts.Contains(account))
        {
            return VaultResponse.BadRequest($"account ID \"{account}\" does not belong to role \"{role}\"");
        }
        var regions = StringList(entry["bound_region"]);
        if (regions.Count > 0 && !regions.Contains(region))
        {
            return VaultResponse.BadRequest($"region \"{region}\" does not satisfy the constraint on role \"{role}\"");
        }

        // The identity access list: the first login's nonce binds the instance.
        var nonce = req.Body["nonce"]?.ToString() ?? "";
        var generated = false;
        if (state.Nonces.TryGetValue(instanceId, out var recorded))
        {
            if (entry["disallow_reauthentication"]?.ToString() == "true")
            {
                return VaultResponse.BadRequest("reauthentication is disabled");
            }
            if (recorded != nonce)
            {
                return VaultResponse.BadRequest("client nonce mismatch");
            }
        }
        else
        {
            if (nonce.Length == 0)
            {
                nonce = Ids.Uuid();
                generated = true;
            }
            state.Nonces[instanceId] = nonce;
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["account_id"] = account,
            ["ami_id"] = ami,
            ["instance_id"] = instanceId,
            ["region"] = region,
            ["role"] = role,
            ["role_tag_max_ttl"] = "0s",
        };
        if (generated)
        {
            meta["nonce"] = nonce;
        }
        if (!state.Entities.TryGetValue(instanceId, out var entity))
        {
            entity = state.Entities[instanceId] = Ids.Uuid();
        }
        var te = CreateToken(RoleTokenParams(entry, mount, meta, mount.Type + "-" + instanceId, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }

    private static byte[]? VerifyPkcs7(AwsState state, string pkcs7)
    {
        try
        {
            var cms = new SignedCms();
            cms.Decode(Convert.FromBase64String(pkcs7.Replace("\n", "", StringComparison.Ordinal)));
            var certs = new X509Certificate2Collection(state.Certificates.Values.Where(c => c["type"]?.ToString() == "pkcs7")
                .Select(c => ParseAwsCertificate(c["aws_public_cert"]?.ToString() ?? "")).OfType<X509Certificate2>().ToArray());
            // The signer's certificate is found among the configured ones by its identifier, as Vault's pkcs7 check does.
            foreach (var cert in certs)
            {
                try
                {
                    cms.CheckSignature(new X509Certificate2Collection(cert), verifySignatureOnly: true);
                    return cms.ContentInfo.Content;
                }
                catch (CryptographicException)
                {
                    // Next certificate.
                }
            }
            return null;
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
    }

    private static bool VerifyIdentitySignature(AwsState state, byte[] document, byte[] signature)
    {
        foreach (var c in state.Certificates.Values.Where(c => c["type"]?.ToString() == "identity"))
        {
            using var cert = ParseAwsCertificate(c["aws_public_cert"]?.ToString() ?? "");
            using var rsa = cert?.GetRSAPublicKey();
            if (rsa is not null && rsa.VerifyData(document, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return true;
            }
        }
        return false;
    }

    private static bool TryBase64(JsonNode? node, out byte[] bytes)
    {
        bytes = [];
        try
        {
            bytes = Convert.FromBase64String(node?.ToString() ?? "");
            return node is not null;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Go's http.Header as JSON (lists of values) or a map of single strings, by lower-case name.</summary>
    private static Dictionary<string, string>? ParseGoHeaders(byte[] json)
    {
        try
        {
            if (JsonNode.Parse(json) is not JsonObject obj)
            {
                return null;
            }
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in obj)
            {
                headers[name.ToLowerInvariant()] = value is JsonArray list ? string.Join(',', list.Select(v => v?.ToString() ?? "")) : value?.ToString() ?? "";
            }
            return headers;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
