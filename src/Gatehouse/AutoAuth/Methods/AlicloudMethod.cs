using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>alicloud</c>, key for key as Vault Agent/Proxy (command/agentproxyshared/auth/alicloud): role and region
/// (required), credential_poll_interval (whole seconds, default 60), and the credential keys of alibaba-cloud-sdk-go's
/// <c>providers.Configuration</c>: access_key, access_secret, access_token, role_arn, role_session_name,
/// role_session_expiration, private_key, public_key_id, session_expiration, role_name.
/// <para>
/// Credentials come from Vault's chain, in its order: the <c>ALICLOUD_*</c> environment variables, then the config
/// keys, then the ECS metadata service (the instance's RAM role, its name read from the service). Each source picks
/// as the SDK's <see cref="AlicloudCredential.From"/> does. At every login the chosen credential is turned into
/// signing keys as the SDK's client does for each request (AssumeRole for role_arn, the metadata service for
/// role_name, GenerateSessionAccessKey for a key pair; no cache between logins, as Vault Agent builds a new client per
/// login), and an STS <c>GetCallerIdentity</c> RPC call is signed (<see cref="AlicloudRpcSigner"/>), never sent. Vault
/// gets base64 of its URL and of its headers (Go's <c>http.Header</c> JSON), with role.
/// </para>
/// <para>
/// Every credential_poll_interval the chain is read again; when its answer differs from the last one, the method says
/// so on <see cref="NewCredentials"/> (the auth handler logs in again when <c>enable_reauth_on_new_credentials</c> is
/// set) and later logins use it. Secrets, STS tokens and signatures are never logged.
/// </para>
/// Gatehouse-only keys <c>sts_endpoint</c> and <c>metadata_endpoint</c> point the AssumeRole/GenerateSessionAccessKey
/// calls and the metadata reads elsewhere (the SDK has no override for either); the signed GetCallerIdentity always
/// names Alibaba's real STS host, which Vault checks.
/// </summary>
internal sealed partial class AlicloudMethod : IBackgroundAuthMethod, ICredentialWatchingAuthMethod
{
    public const string DefaultMetadataEndpoint = "http://100.100.100.200";
    public const string DefaultAssumeRoleEndpoint = "https://sts.aliyuncs.com";
    public const string KeyPairEndpoint = "https://sts.ap-northeast-1.aliyuncs.com";
    public const string StsApiVersion = "2015-04-01";

    /// <summary>The alibaba-cloud-sdk-go version whose request shape is followed (vault-plugin-auth-alicloud's).</summary>
    public const string SdkCoreVersion = "1.63.107";

    public const string CredentialsPath = "/latest/meta-data/ram/security-credentials/";

    /// <summary>Vault's <c>defaultCredCheckFreqSeconds</c>.</summary>
    public static readonly TimeSpan DefaultCredentialPollInterval = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StsTimeout = TimeSpan.FromSeconds(15);

    // sts.EndpointMap: the regions whose STS host is not sts.<region>.aliyuncs.com.
    private static readonly Dictionary<string, string> SpecialStsHosts = new(StringComparer.Ordinal)
    {
        ["cn-north-2-gov-1"] = "sts-vpc.cn-north-2-gov-1.aliyuncs.com",
        ["cn-shenzhen-finance-1"] = "sts-vpc.cn-shenzhen-finance-1.aliyuncs.com",
    };

    private static readonly HashSet<string> GlobalStsRegions = new(StringComparer.Ordinal)
    {
        "cn-shanghai-internal-test-1", "cn-beijing-gov-1", "cn-shenzhen-su18-b01", "cn-shanghai-inner", "cn-shenzhen-st4-d01",
        "cn-haidian-cm12-c01", "cn-hangzhou-internal-prod-1", "cn-yushanfang", "cn-hongkong-finance-pop", "cn-qingdao-nebula",
        "cn-beijing-finance-pop", "cn-wuhan", "cn-zhangbei", "cn-zhengzhou-nebula-1", "rus-west-1-pop", "cn-shanghai-et15-b01",
        "cn-hangzhou-bj-b01", "cn-hangzhou-internal-test-1", "eu-west-1-oxs", "cn-zhangbei-na61-b01", "cn-beijing-finance-1",
        "cn-hangzhou-internal-test-3", "cn-hangzhou-internal-test-2", "cn-hangzhou-test-306", "cn-huhehaote-nebula-1",
        "cn-shanghai-et2-b01", "cn-hangzhou-finance", "cn-beijing-nu16-b01", "cn-edge-1", "cn-fujian", "ap-northeast-2-pop",
        "cn-shenzhen-inner", "cn-zhangjiakou-na62-a01",
    };

    private readonly string _mountPath;
    private readonly string _role;
    private readonly AlicloudCredentialSettings _config;
    private readonly string? _stsEndpoint;
    private readonly Func<string, string?> _environment;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _http;
    private readonly CredentialWatch<AlicloudCredential> _watch = new();

    /// <param name="settings">The method's config.</param>
    /// <param name="mountPath">Where it logs in.</param>
    /// <param name="environment">The environment Gatehouse reads (the ALICLOUD_* variables).</param>
    /// <param name="time">The clock of the poller and of the signed requests' timestamps.</param>
    /// <param name="logger">Its logger.</param>
    /// <param name="http">The client for STS and the metadata service.</param>
    public AlicloudMethod(MethodSettings settings, string mountPath, Func<string, string?> environment, TimeProvider time, ILogger logger,
        HttpMessageInvoker? http = null)
    {
        _mountPath = mountPath;
        _environment = environment;
        _time = time;
        _logger = logger;
        _role = settings.GetRequiredString("role");
        Region = settings.GetRequiredString("region");
        CredentialPollInterval = settings.GetInt64("credential_poll_interval") is { } seconds
            ? TimeSpan.FromSeconds(seconds) : DefaultCredentialPollInterval;
        _config = new AlicloudCredentialSettings
        {
            AccessKeyId = settings.GetString("access_key") ?? "",
            AccessKeySecret = settings.GetString("access_secret") ?? "",
            AccessKeyStsToken = settings.GetString("access_token") ?? "",
            RoleArn = settings.GetString("role_arn") ?? "",
            RoleSessionName = settings.GetString("role_session_name") ?? "",
            RoleSessionExpiration = settings.Map.Contains("role_session_expiration") ? (int?)settings.GetInt64("role_session_expiration") ?? 0 : null,
            PrivateKey = settings.GetString("private_key") ?? "",
            PublicKeyId = settings.GetString("public_key_id") ?? "",
            SessionExpiration = settings.Map.Contains("session_expiration") ? (int?)settings.GetInt64("session_expiration") ?? 0 : null,
            RoleName = settings.GetString("role_name") ?? "",
        };
        _stsEndpoint = settings.GetString("sts_endpoint")?.TrimEnd('/');
        MetadataEndpoint = (settings.GetString("metadata_endpoint") ?? DefaultMetadataEndpoint).TrimEnd('/');
        _http = http ?? new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = MetadataTimeout }, disposeHandler: true);
    }

    public string Type => "alicloud";

    public string Region { get; }

    public TimeSpan CredentialPollInterval { get; }

    /// <summary>The ECS metadata service: <c>metadata_endpoint</c> or http://100.100.100.200.</summary>
    public string MetadataEndpoint { get; }

    public ChannelReader<bool> NewCredentials => _watch.Changed;

    /// <summary>Test hook: raised each time the credential poller's timer is armed.</summary>
    internal event Action? PollerWaiting;

    /// <summary>
    /// The STS host the SDK's client resolves for GetCallerIdentity in <paramref name="region"/> (the sts package's
    /// endpoint map, else <c>sts.&lt;region&gt;.aliyuncs.com</c>).
    /// </summary>
    public static string StsHost(string region) =>
        SpecialStsHosts.TryGetValue(region, out var host) ? host
        : GlobalStsRegions.Contains(region) ? "sts.aliyuncs.com"
        : $"sts.{region}.aliyuncs.com";

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var credential = _watch.Last;

        // Vault Agent reads the chain once when it starts (and exits if that fails); Gatehouse reads it at the first
        // login instead, so that a failure is a login to retry with backoff.
        if (credential is null)
        {
            var retrieved = await RetrieveAsync(cancellationToken).ConfigureAwait(false);
            if (retrieved.Error is not null)
            {
                return LoginRequest.Failed($"error retrieving Alibaba Cloud credentials: {retrieved.Error}");
            }

            credential = _watch.RememberFirst(retrieved.Credential!);
        }

        var keys = await SigningKeysAsync(credential, cancellationToken).ConfigureAwait(false);
        if (keys.Error is not null)
        {
            return LoginRequest.Failed($"error creating login value: {keys.Error}");
        }

        var body = LoginData(keys.Keys!);
        body["role"] = _role;
        return LoginRequest.Login(_mountPath, body);
    }

    /// <summary>The credential poller, as Vault's <c>pollForCreds</c>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await CredentialPoller.RunAsync(CredentialPollInterval, _time, () => PollerWaiting?.Invoke(), CheckCredentialsAsync, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>One poll: read the chain; when its answer differs from the last one, keep it and say so.</summary>
    internal async Task CheckCredentialsAsync(CancellationToken cancellationToken)
    {
        var current = await RetrieveAsync(cancellationToken).ConfigureAwait(false);
        if (current.Error is not null)
        {
            Log.PollFailed(_logger, current.Error);
            return;
        }

        _watch.Observe(current.Credential!, credential => Log.NewCredentials(_logger, credential));
    }

    /// <summary>
    /// Vault's chain: the environment provider, the configuration provider, the instance metadata provider; the first
    /// that answers wins, else the last one's error.
    /// </summary>
    internal async Task<(AlicloudCredential? Credential, string? Error)> RetrieveAsync(CancellationToken cancellationToken)
    {
        var fromEnvironment = FromEnvironment();
        if (fromEnvironment.Credential is not null)
        {
            return fromEnvironment;
        }

        if (AlicloudCredential.From(_config) is { } configured)
        {
            return (configured, null);
        }

        return await FromInstanceMetadataAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The SDK's <c>EnvProvider</c>: ALICLOUD_* variables; the two expirations are numbers (unset: 0).</summary>
    private (AlicloudCredential? Credential, string? Error) FromEnvironment()
    {
        string Env(string name) => _environment(name) ?? "";
        int? roleExpiration = 0, sessionExpiration = 0;
        foreach (var name in new[] { "ALICLOUD_ROLE_SESSION_EXPIRATION", "ALICLOUD_SESSION_EXPIRATION" })
        {
            var text = Env(name);
            if (text.Length == 0)
            {
                continue;
            }

            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return (null, $"error parsing {name}: strconv.Atoi: parsing \"{text}\": invalid syntax");
            }

            if (name == "ALICLOUD_SESSION_EXPIRATION")
            {
                sessionExpiration = value;
            }
            else
            {
                roleExpiration = value;
            }
        }

        var credential = AlicloudCredential.From(new AlicloudCredentialSettings
        {
            AccessKeyId = Env("ALICLOUD_ACCESS_KEY"),
            AccessKeySecret = Env("ALICLOUD_SECRET_KEY"),
            AccessKeyStsToken = Env("ALICLOUD_ACCESS_KEY_STS_TOKEN"),
            RoleArn = Env("ALICLOUD_ROLE_ARN"),
            RoleSessionName = Env("ALICLOUD_ROLE_SESSION_NAME"),
            RoleSessionExpiration = roleExpiration,
            PrivateKey = Env("ALICLOUD_PRIVATE_KEY"),
            PublicKeyId = Env("ALICLOUD_PUBLIC_KEY_ID"),
            SessionExpiration = sessionExpiration,
            RoleName = Env("ALICLOUD_ROLE_NAME"),
        });
        return credential is null ? (null, "no valid credentials were found") : (credential, null);
    }

    /// <summary>
    /// The SDK's <c>InstanceMetadataProvider</c>: the RAM role's name from the metadata service, then its current keys,
    /// kept as a static STS credential (so a rotation on the instance is a new credential at the next poll).
    /// </summary>
    private async Task<(AlicloudCredential? Credential, string? Error)> FromInstanceMetadataAsync(CancellationToken cancellationToken)
    {
        var token = await MetadataTokenAsync(cancellationToken).ConfigureAwait(false);
        var name = await SendAsync(MetadataRequest(CredentialsPath, token), MetadataTimeout, "the ECS metadata service", MetadataEndpoint, cancellationToken).ConfigureAwait(false);
        if (name.Error is not null)
        {
            return (null, $"get role name failed: {name.Error}; {NoCredentialsHint}");
        }

        var roleName = name.Body!.Trim();
        if (name.Status != 200)
        {
            return (null, $"received {name.Status} getting role name: {roleName}; {NoCredentialsHint}");
        }

        if (roleName.Length == 0)
        {
            return (null, $"unable to retrieve role name, it may be unset; {NoCredentialsHint}");
        }

        var keys = await EcsRoleKeysAsync(roleName, token, cancellationToken).ConfigureAwait(false);
        return keys.Error is not null
            ? (null, keys.Error)
            : (new AlicloudCredential
            {
                Kind = AlicloudCredentialKind.StsToken, AccessKeyId = keys.Keys!.AccessKeyId, AccessKeySecret = keys.Keys.AccessKeySecret,
                SecurityToken = keys.Keys.SecurityToken,
            }, null);
    }

    private const string NoCredentialsHint =
        "no credentials in the environment (ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, ALICLOUD_ROLE_NAME, …) or the method's config " +
        "(access_key and access_secret, role_name, or private_key with public_key_id and session_expiration), and no ECS RAM role " +
        "from the metadata service";

    /// <summary>Signing keys for one login, as the SDK's client gets them for the credential's kind.</summary>
    internal async Task<(SigningKeys? Keys, string? Error)> SigningKeysAsync(AlicloudCredential credential, CancellationToken cancellationToken)
    {
        switch (credential.Kind)
        {
            case AlicloudCredentialKind.AccessKey:
                return (new SigningKeys(credential.AccessKeyId, credential.AccessKeySecret, "", "static_ak"), null);
            case AlicloudCredentialKind.StsToken:
                return (new SigningKeys(credential.AccessKeyId, credential.AccessKeySecret, credential.SecurityToken, "static_sts"), null);
            case AlicloudCredentialKind.EcsRamRole:
                var token = await MetadataTokenAsync(cancellationToken).ConfigureAwait(false);
                return await EcsRoleKeysAsync(credential.RoleName, token, cancellationToken).ConfigureAwait(false);
            case AlicloudCredentialKind.RamRoleArn:
                return await AssumeRoleAsync(credential, cancellationToken).ConfigureAwait(false);
            default:
                return await KeyPairSessionAsync(credential, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The metadata service's session token (PUT); as the SDK, a failure only means going on without one.</summary>
    private async Task<string?> MetadataTokenAsync(CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, MetadataEndpoint + "/latest/api/token") { Content = new ByteArrayContent([]) };
        request.Headers.TryAddWithoutValidation("X-aliyun-ecs-metadata-token-ttl-seconds", "21600");
        var answer = await SendAsync(request, MetadataTimeout, "the ECS metadata service", MetadataEndpoint, cancellationToken).ConfigureAwait(false);
        return answer.Status == 200 ? answer.Body!.Trim() : null;
    }

    private HttpRequestMessage MetadataRequest(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, MetadataEndpoint + path);
        if (token is { Length: > 0 })
        {
            request.Headers.TryAddWithoutValidation("X-aliyun-ecs-metadata-token", token);
        }

        return request;
    }

    /// <summary>The ECS RAM role's keys: <c>GET /latest/meta-data/ram/security-credentials/&lt;role&gt;</c>.</summary>
    private async Task<(SigningKeys? Keys, string? Error)> EcsRoleKeysAsync(string roleName, string? token, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(MetadataRequest(CredentialsPath + Uri.EscapeDataString(roleName), token), MetadataTimeout,
            "the ECS metadata service", MetadataEndpoint, cancellationToken).ConfigureAwait(false);
        if (answer.Error is not null)
        {
            return (null, $"refresh Ecs sts token err: {answer.Error} (role_name \"{roleName}\" needs an ECS instance's metadata service; " +
                "set metadata_endpoint to point elsewhere)");
        }

        if (answer.Status != 200)
        {
            return (null, $"refresh Ecs sts token err, httpStatus: {answer.Status}, message = {Truncate(answer.Body!)} " +
                $"(is \"{roleName}\" the RAM role attached to this instance?)");
        }

        try
        {
            using var doc = JsonDocument.Parse(answer.Body!);
            var root = doc.RootElement;
            string? Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            if (Field("AccessKeyId") is not { } id || Field("AccessKeySecret") is not { } secret || Field("SecurityToken") is not { } sts)
            {
                return (null, "refresh Ecs sts token err, fail to get credentials");
            }

            return Field("Code") != "Success"
                ? (null, "refresh Ecs sts token err, Code is not Success")
                : (new SigningKeys(id, secret, sts, "ecs_ram_role"), null);
        }
        catch (JsonException e)
        {
            return (null, $"refresh Ecs sts token err, json.Unmarshal fail: {e.Message}");
        }
    }

    /// <summary>The SDK's <c>RAMRoleARNCredentialsProvider</c>: AssumeRole signed with the access key (HMAC-SHA1).</summary>
    private async Task<(SigningKeys? Keys, string? Error)> AssumeRoleAsync(AlicloudCredential credential, CancellationToken cancellationToken)
    {
        var duration = credential.RoleSessionExpiration;
        if (duration != 0 && duration is < 900 or > 3600)
        {
            return (null, "Assume Role session duration should be in the range of 15min - 1hr");
        }

        var sessionName = credential.RoleSessionName.Length > 0 ? credential.RoleSessionName
            : "aliyun-go-sdk-" + (_time.GetUtcNow().ToUnixTimeMilliseconds() * 1000).ToString(CultureInfo.InvariantCulture);
        var query = CommonParameters("AssumeRole", "HMAC-SHA1");
        query["AccessKeyId"] = credential.AccessKeyId;
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RoleArn"] = credential.RoleArn,
            ["RoleSessionName"] = sessionName,
            ["DurationSeconds"] = (duration == 0 ? 3600 : duration).ToString(CultureInfo.InvariantCulture),
        };
        query["Signature"] = AlicloudRpcSigner.HmacSha1("POST", Merge(query, form), credential.AccessKeySecret);
        var endpoint = _stsEndpoint ?? DefaultAssumeRoleEndpoint;
        var answer = await PostAsync(endpoint, query, form, cancellationToken).ConfigureAwait(false);
        if (answer.Error is not null)
        {
            return (null, $"refresh session token failed: {answer.Error}");
        }

        if (answer.Status != 200)
        {
            return (null, $"refresh session token failed: STS AssumeRole for {credential.RoleArn} answered {answer.Status}: {Truncate(answer.Body!)}");
        }

        return ParseSession(answer.Body!, "Credentials", "AccessKeyId", "AccessKeySecret", "SecurityToken", "ram_role_arn/static_ak",
            "refresh RoleArn sts token err");
    }

    /// <summary>The SDK's <c>RSAKeyPairCredentialsProvider</c>: GenerateSessionAccessKey signed SHA256withRSA.</summary>
    private async Task<(SigningKeys? Keys, string? Error)> KeyPairSessionAsync(AlicloudCredential credential, CancellationToken cancellationToken)
    {
        var duration = credential.SessionExpiration;
        if (duration != 0 && duration is < 900 or > 3600)
        {
            return (null, "Key Pair session duration should be in the range of 15min - 1hr");
        }

        using var key = RSA.Create();
        try
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(credential.PrivateKey), out _);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return (null, "private_key is not the base64 of a PKCS#8 RSA private key");
        }

        var query = CommonParameters("GenerateSessionAccessKey", "SHA256withRSA");
        query["PublicKeyId"] = credential.PublicKeyId;
        query["SignatureType"] = "PRIVATEKEY";
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DurationSeconds"] = (duration == 0 ? 3600 : duration).ToString(CultureInfo.InvariantCulture),
        };
        query["Signature"] = AlicloudRpcSigner.Sha256WithRsa("POST", Merge(query, form), key);
        var answer = await PostAsync(_stsEndpoint ?? KeyPairEndpoint, query, form, cancellationToken).ConfigureAwait(false);
        if (answer.Error is not null)
        {
            return (null, $"refresh temp ak failed: {answer.Error}");
        }

        if (answer.Status != 200)
        {
            return (null, $"refresh temp ak failed: STS GenerateSessionAccessKey answered {answer.Status}: {Truncate(answer.Body!)}");
        }

        return ParseSession(answer.Body!, "SessionAccessKey", "SessionAccessKeyId", "SessionAccessKeySecret", null, "rsa_key_pair",
            "refresh temp ak err");
    }

    private static (SigningKeys? Keys, string? Error) ParseSession(string body, string container, string idName, string secretName,
        string? tokenName, string provider, string errorPrefix)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(container, out var c)
                || c.ValueKind != JsonValueKind.Object)
            {
                return (null, $"{errorPrefix}, fail to get credentials");
            }

            string? Field(string name) => c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (Field(idName) is not { } id || Field(secretName) is not { } secret || (tokenName is not null && Field(tokenName) is null))
            {
                return (null, $"{errorPrefix}, fail to get credentials");
            }

            if (!DateTimeOffset.TryParseExact(Field("Expiration"), "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal, out _))
            {
                return (null, $"{errorPrefix}: the answer's Expiration is not a time like 2006-01-02T15:04:05Z");
            }

            return (new SigningKeys(id, secret, tokenName is null ? "" : Field(tokenName)!, provider), null);
        }
        catch (JsonException e)
        {
            return (null, $"{errorPrefix}, json.Unmarshal fail: {e.Message}");
        }
    }

    /// <summary>The parameters every signed RPC call of the SDK carries.</summary>
    private Dictionary<string, string> CommonParameters(string action, string signatureMethod) => new(StringComparer.Ordinal)
    {
        ["Version"] = StsApiVersion,
        ["Action"] = action,
        ["Format"] = "JSON",
        ["Timestamp"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["SignatureMethod"] = signatureMethod,
        ["SignatureVersion"] = "1.0",
        ["SignatureNonce"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
    };

    private static Dictionary<string, string> Merge(Dictionary<string, string> a, Dictionary<string, string> b)
    {
        var all = new Dictionary<string, string>(a, StringComparer.Ordinal);
        foreach (var (k, v) in b)
        {
            all[k] = v;
        }

        return all;
    }

    /// <summary>
    /// The login body: the GetCallerIdentity call the SDK's client would send (POST, parameters in the query, signed
    /// HMAC-SHA1), as Vault's <c>tools.GenerateLoginData</c> captures it.
    /// </summary>
    internal Dictionary<string, string> LoginData(SigningKeys keys)
    {
        var query = CommonParameters("GetCallerIdentity", "HMAC-SHA1");
        query["SignatureType"] = "";
        query["AccessKeyId"] = keys.AccessKeyId;
        query["RegionId"] = Region;
        if (keys.SecurityToken.Length > 0)
        {
            query["SecurityToken"] = keys.SecurityToken;
        }

        query["Signature"] = AlicloudRpcSigner.HmacSha1("POST", query, keys.AccessKeySecret);
        var url = $"https://{StsHost(Region)}/?{AlicloudRpcSigner.GoQuery(query)}";

        // The SDK sets these as written (not canonicalized); Go's json.Marshal sorts the keys.
        var headers = new SortedDictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["Accept-Encoding"] = ["identity"],
            ["Content-Type"] = ["application/x-www-form-urlencoded"],
            ["User-Agent"] = [$"AlibabaCloud (linux) Gatehouse/{ProductInfo.Version} Core/{SdkCoreVersion}"],
            ["x-acs-action"] = ["GetCallerIdentity"],
            ["x-acs-credentials-provider"] = [keys.ProviderName],
            ["x-acs-version"] = [StsApiVersion],
            ["x-sdk-client"] = ["golang/1.0.0"],
            ["x-sdk-core-version"] = [SdkCoreVersion],
            ["x-sdk-invoke-type"] = ["normal"],
        };
        return new Dictionary<string, string>
        {
            ["identity_request_url"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(url)),
            ["identity_request_headers"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(MethodHttp.GoHeaderJson(headers))),
        };
    }

    private Task<(int Status, string? Body, string? Error)> PostAsync(string endpoint, Dictionary<string, string> query,
        Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{endpoint}/?{AlicloudRpcSigner.GoQuery(query)}")
        {
            Content = new StringContent(AlicloudRpcSigner.GoQuery(form), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "identity");
        return SendAsync(request, StsTimeout, "Alibaba Cloud STS", endpoint, cancellationToken);
    }

    private async Task<(int Status, string? Body, string? Error)> SendAsync(HttpRequestMessage request, TimeSpan timeout, string what,
        string where, CancellationToken cancellationToken)
    {
        using var owned = request;
        var answer = await MethodHttp.SendAsync(_http, request, timeout, _time, cancellationToken).ConfigureAwait(false);
        return answer.TimedOut ? (0, null, $"{what} at {where} did not answer within {(int)timeout.TotalSeconds} seconds")
            : answer.Failure is { } failure ? (0, null, $"{what} at {where} is unreachable ({failure})")
            : (answer.Status, answer.Body, null);
    }

    // Error bodies of STS and the metadata service name codes and request ids, never a secret; long ones are cut.
    private static string Truncate(string body) => body.Length <= 400 ? body.Trim() : body[..400] + "…";

    /// <summary>The keys one login is signed with; secret. ToString never shows a secret.</summary>
    internal sealed record SigningKeys(string AccessKeyId, string AccessKeySecret, string SecurityToken, string ProviderName)
    {
        public override string ToString() => $"SigningKeys {{ AccessKeyId = {AccessKeyId}, ProviderName = {ProviderName} }}";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AlicloudMethodPollFailed, Level = LogLevel.Warning, Message = "alicloud: unable to retrieve current creds, retaining last creds: {Error}")]
        public static partial void PollFailed(ILogger logger, string error);

        [LoggerMessage(EventId = LogEvents.AlicloudMethodNewCredentials, Level = LogLevel.Information, Message = "alicloud: new credentials detected ({Credential})")]
        public static partial void NewCredentials(ILogger logger, AlicloudCredential credential);
    }
}
