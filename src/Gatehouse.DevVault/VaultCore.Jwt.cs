using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

/// <summary>
/// jwt/oidc and kubernetes auth. DevVault verifies a Kubernetes service-account JWT's signature itself, with the
/// keys in the mount's config (<c>pem_keys</c> or <c>jwt_validation_pubkeys</c>), instead of calling the
/// Kubernetes TokenReview API.
/// </summary>
internal sealed partial class VaultCore
{
    /// <summary>The state of a backend that verifies signed JWTs (jwt/oidc, kubernetes, azure, gcp).</summary>
    private sealed class SignedJwtState
    {
        public JsonObject Config { get; set; } = [];
        public List<AsymmetricAlgorithm> Keys { get; } = [];
        public SortedDictionary<string, JsonObject> Roles { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Entities { get; } = new(StringComparer.Ordinal);

        /// <summary>gcp only: the service accounts DevVault knows (Vault asks Google's IAM API), by email.</summary>
        public Dictionary<string, GcpServiceAccount> ServiceAccounts { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A Google service account as Vault's gcp backend looks it up: ids, project and its public keys by key id.</summary>
    private sealed record GcpServiceAccount(string Email, string UniqueId, string ProjectId, Dictionary<string, AsymmetricAlgorithm> Keys);

    private static SignedJwtState SignedJwtStateOf(Mount m) => (SignedJwtState)(m.State ??= new SignedJwtState());

    private VaultResponse HandleJwt(VaultRequest req, Mount mount, string sub)
    {
        var state = SignedJwtStateOf(mount);
        var op = req.Operation;
        if (sub == "config")
        {
            if (op == "read")
            {
                return VaultResponse.Ok(state.Config.DeepClone());
            }
            if (op is not ("create" or "update"))
            {
                return VaultResponse.UnsupportedOperation();
            }
            var keys = new List<AsymmetricAlgorithm>();
            foreach (var pem in StringList(req.Body["jwt_validation_pubkeys"]).Concat(StringList(req.Body["pem_keys"])))
            {
                var key = ImportPublicKey(pem);
                if (key is null)
                {
                    return VaultResponse.BadRequest("error parsing public key: could not parse PEM public key");
                }
                keys.Add(key);
            }
            state.Keys.Clear();
            state.Keys.AddRange(keys);
            state.Config = (JsonObject)req.Body.DeepClone();
            return VaultResponse.NoContent();
        }
        if (sub is "role" or "role/")
        {
            return op != "list" ? VaultResponse.UnsupportedOperation()
                : state.Roles.Count == 0 ? VaultResponse.NotFound() : VaultResponse.Ok(KeysData(state.Roles.Keys));
        }
        if (sub.StartsWith("role/", StringComparison.Ordinal))
        {
            var name = sub[5..];
            switch (op)
            {
                case "read":
                    return state.Roles.TryGetValue(name, out var r) ? VaultResponse.Ok(r.DeepClone()) : VaultResponse.NotFound();
                case "create" or "update":
                    state.Roles[name] = (JsonObject)req.Body.DeepClone();
                    return VaultResponse.NoContent();
                case "delete":
                    state.Roles.Remove(name);
                    return VaultResponse.NoContent();
                default:
                    return VaultResponse.UnsupportedOperation();
            }
        }
        return VaultResponse.UnsupportedPath();
    }

    private static AsymmetricAlgorithm? ImportPublicKey(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
        }
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
        }
        try
        {
            using var cert = X509Certificate2.CreateFromPem(pem);
            return (AsymmetricAlgorithm?)cert.GetRSAPublicKey() ?? cert.GetECDsaPublicKey();
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return null;
        }
    }

    private static byte[] B64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    /// <summary>Verifies an RS256/384/512 or ES256/384/512 JWT against the keys; returns its claims or an error.</summary>
    private JsonObject? VerifyJwt(string jwt, IEnumerable<AsymmetricAlgorithm> keys, out string error)
    {
        error = "";
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            error = "error validating token: token is malformed";
            return null;
        }
        JsonObject? header, claims;
        byte[] sig;
        try
        {
            header = JsonNode.Parse(B64Url(parts[0])) as JsonObject;
            claims = JsonNode.Parse(B64Url(parts[1])) as JsonObject;
            sig = B64Url(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            error = "error validating token: token is malformed";
            return null;
        }
        if (header is null || claims is null)
        {
            error = "error validating token: token is malformed";
            return null;
        }
        var alg = header["alg"]?.ToString() ?? "";
        var hash = alg[^3..] switch { "256" => HashAlgorithmName.SHA256, "384" => HashAlgorithmName.SHA384, "512" => HashAlgorithmName.SHA512, _ => default };
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var ok = hash != default && keys.Any(k => k switch
        {
            RSA rsa when alg.StartsWith("RS", StringComparison.Ordinal) => rsa.VerifyData(signed, sig, hash, RSASignaturePadding.Pkcs1),
            RSA rsa when alg.StartsWith("PS", StringComparison.Ordinal) => rsa.VerifyData(signed, sig, hash, RSASignaturePadding.Pss),
            ECDsa ec when alg.StartsWith("ES", StringComparison.Ordinal) => ec.VerifyData(signed, sig, hash),
            _ => false,
        });
        if (!ok)
        {
            error = "error validating token: failed to verify id token signature";
            return null;
        }
        var now = Ids.Unix(Now);
        const long leeway = 60;
        if (claims["exp"] is JsonValue exp && exp.TryGetValue<double>(out var e1) && now > e1 + leeway)
        {
            error = "error validating claims: token is expired";
            return null;
        }
        if (claims["nbf"] is JsonValue nbf && nbf.TryGetValue<double>(out var n1) && now + leeway < n1)
        {
            error = "error validating claims: token not yet valid";
            return null;
        }
        return claims;
    }

    private VaultResponse JwtLogin(VaultRequest req, Mount mount)
    {
        var state = SignedJwtStateOf(mount);
        var roleName = req.Body["role"]?.ToString() ?? state.Config["default_role"]?.ToString();
        var jwt = req.Body["jwt"]?.ToString();
        if (string.IsNullOrEmpty(roleName))
        {
            return VaultResponse.BadRequest("missing role");
        }
        if (string.IsNullOrEmpty(jwt))
        {
            return VaultResponse.BadRequest("missing jwt");
        }
        if (!state.Roles.TryGetValue(roleName, out var role))
        {
            return VaultResponse.BadRequest($"role \"{roleName}\" could not be found");
        }
        var claims = VerifyJwt(jwt, state.Keys, out var error);
        if (claims is null)
        {
            return mount.Type == "kubernetes" ? VaultResponse.Error(403, "permission denied") : VaultResponse.BadRequest(error);
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["role"] = roleName };
        string alias;
        if (mount.Type == "kubernetes")
        {
            var k8s = claims["kubernetes.io"] as JsonObject;
            var saName = k8s?["serviceaccount"]?["name"]?.ToString() ?? claims["kubernetes.io/serviceaccount/service-account.name"]?.ToString() ?? "";
            var ns = k8s?["namespace"]?.ToString() ?? claims["kubernetes.io/serviceaccount/namespace"]?.ToString() ?? "";
            var uid = k8s?["serviceaccount"]?["uid"]?.ToString() ?? claims["kubernetes.io/serviceaccount/service-account.uid"]?.ToString() ?? "";
            static bool Bound(JsonNode? allowed, string value)
            {
                var list = StringList(allowed);
                return list.Contains("*") || list.Contains(value);
            }
            if (!Bound(role["bound_service_account_names"], saName))
            {
                return VaultResponse.Error(403, "service account name not authorized");
            }
            if (!Bound(role["bound_service_account_namespaces"], ns))
            {
                return VaultResponse.Error(403, "namespace not authorized");
            }
            meta["service_account_name"] = saName;
            meta["service_account_namespace"] = ns;
            meta["service_account_uid"] = uid;
            meta["service_account_secret_name"] = claims["kubernetes.io/serviceaccount/secret.name"]?.ToString() ?? "";
            alias = uid.Length > 0 ? uid : ns + "/" + saName;
        }
        else
        {
            var audiences = StringList(role["bound_audiences"]);
            var tokenAud = claims["aud"] is JsonArray aa ? aa.Select(x => x?.ToString() ?? "").ToList() : claims["aud"] is JsonNode one ? [one.ToString()] : new List<string>();
            if (audiences.Count > 0 && !tokenAud.Any(audiences.Contains))
            {
                return VaultResponse.BadRequest("error validating claims: aud claim does not match any expected audience");
            }
            if (audiences.Count == 0 && tokenAud.Count > 0 && role["role_type"]?.ToString() != "oidc")
            {
                return VaultResponse.BadRequest("audience claim found in JWT but no audiences bound to the role");
            }
            if (role["bound_subject"]?.ToString() is { Length: > 0 } boundSub && claims["sub"]?.ToString() != boundSub)
            {
                return VaultResponse.BadRequest("sub claim does not match bound subject");
            }
            if (state.Config["bound_issuer"]?.ToString() is { Length: > 0 } iss && claims["iss"]?.ToString() != iss)
            {
                return VaultResponse.BadRequest("error validating claims: validation failed, invalid issuer claim (iss)");
            }
            var userClaim = role["user_claim"]?.ToString() ?? "sub";
            var user = claims[userClaim]?.ToString();
            if (string.IsNullOrEmpty(user))
            {
                return VaultResponse.BadRequest($"claim \"{userClaim}\" not found in token");
            }
            alias = user;
        }
        if (!state.Entities.TryGetValue(alias, out var entity))
        {
            entity = Ids.Uuid();
            state.Entities[alias] = entity;
        }
        var te = CreateToken(RoleTokenParams(role, mount, meta, mount.Type + "-" + alias, entity));
        return new VaultResponse { Auth = AuthFor(te) };
    }

    private TokenParams RoleTokenParams(JsonObject role, Mount mount, Dictionary<string, string> meta, string displayName, string entity)
    {
        var ttl = GoDuration.SecondsOrZero(role["token_ttl"] ?? role["ttl"]);
        var maxTtl = GoDuration.SecondsOrZero(role["token_max_ttl"] ?? role["max_ttl"]);
        var period = GoDuration.SecondsOrZero(role["token_period"] ?? role["period"]);
        TryInt(role, "token_num_uses", out var uses, out _);
        return new TokenParams
        {
            Policies = StringList(role["token_policies"] ?? role["policies"]),
            Ttl = ttl > 0 ? ttl : mount.DefaultLeaseTtl,
            MaxTtl = maxTtl,
            MountMaxTtl = mount.MaxLeaseTtl,
            Period = period,
            NumUses = uses,
            Meta = meta,
            DisplayName = displayName,
            Path = "auth/" + mount.Path + "login",
            EntityId = entity,
        };
    }
}
