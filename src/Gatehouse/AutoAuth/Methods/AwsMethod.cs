using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;
using Amazon.RuntimeDependencies;
using Amazon.SecurityToken;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>aws</c>, key for key as Vault Agent/Proxy: type (<c>iam</c> or <c>ec2</c>) and role (required), access_key,
/// secret_key, session_token, header_value, nonce, region (default <c>us-east-1</c>), credential_poll_interval (whole
/// seconds, default 60).
/// <para>
/// <c>iam</c>: at every login a <c>sts:GetCallerIdentity</c> request is built and signed with SigV4 by the AWS SDK's
/// signer, never sent: <c>POST</c> to the STS endpoint of <c>region</c> with <c>Action=GetCallerIdentity&amp;Version=2011-06-15</c>,
/// <c>header_value</c> in a signed <c>X-Vault-AWS-IAM-Server-ID</c>, signed for <c>region</c> (as Vault's awsutil does).
/// Vault gets the method, and base64 of the URL, body and headers (Go's <c>http.Header</c> JSON), with role.
/// Credentials are the static keys when set, otherwise the AWS SDK's default chain (environment, shared credentials
/// and config files with AWS_PROFILE, web identity, ECS container credentials, EC2 instance profile). Every
/// credential_poll_interval the credentials are fetched again; when they differ from the last ones, the method says so
/// on <see cref="NewCredentials"/> (the auth handler logs in again when <c>enable_reauth_on_new_credentials</c> is set).
/// </para>
/// <para>
/// <c>ec2</c>: at every login the instance identity document and its signature are read from the instance metadata
/// service (IMDSv2 session token first, IMDSv1 when the service refuses tokens, as the AWS SDK does) and sent as
/// identity (base64), signature, nonce and role. The nonce is the configured one or, as Vault Agent does, a UUID made
/// at the first login and kept in memory for every later one (never written to disk).
/// </para>
/// Secret keys, session tokens, signatures and the signed headers are never logged.
/// </summary>
internal sealed partial class AwsMethod : IBackgroundAuthMethod, ICredentialWatchingAuthMethod
{
    public const string DefaultRegion = "us-east-1";
    public const string DefaultImdsEndpoint = "http://169.254.169.254";
    public const string ImdsEndpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
    public const string ImdsDisabledVariable = "AWS_EC2_METADATA_DISABLED";
    public const string StsRegionalEndpointsVariable = "AWS_STS_REGIONAL_ENDPOINTS";
    public const string ServerIdHeader = "X-Vault-AWS-IAM-Server-ID";
    public const string GetCallerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15";

    /// <summary>Vault's <c>defaultCredentialPollInterval</c>.</summary>
    public static readonly TimeSpan DefaultCredentialPollInterval = TimeSpan.FromSeconds(60);

    /// <summary>The IMDSv2 session length the AWS SDKs ask for.</summary>
    private const int ImdsTokenTtlSeconds = 21600;

    private static readonly TimeSpan ImdsTimeout = TimeSpan.FromSeconds(5);

    // The regions whose STS endpoint is the global one unless AWS_STS_REGIONAL_ENDPOINTS=regional (aws-sdk-go v1's
    // "legacy" STS endpoint rule, which Vault's awsutil uses).
    private static readonly HashSet<string> LegacyGlobalStsRegions = new(StringComparer.Ordinal)
    {
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1", "eu-central-1",
        "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    };

    private readonly string _mountPath;
    private readonly string _role;
    private readonly string? _headerValue;
    private readonly string _region;
    private readonly ImmutableCredentials? _static;
    private readonly Func<string, string?> _environment;
    private readonly Func<CancellationToken, Task<ImmutableCredentials>> _resolve;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _http;
    private readonly CredentialWatch<ImmutableCredentials> _watch = new(SameCredentials);
    private readonly Lock _gate = new();
    private string? _nonce;

    /// <param name="settings">The method's config.</param>
    /// <param name="mountPath">Where it logs in.</param>
    /// <param name="environment">The environment Gatehouse reads (region, STS and metadata-service overrides).</param>
    /// <param name="time">The clock of the credential poller and of SigV4's timestamp.</param>
    /// <param name="logger">Its logger.</param>
    /// <param name="resolveCredentials">
    /// Where credentials come from when no static keys are set; null: the AWS SDK's default chain, built afresh at each
    /// call as Vault's awsutil does.
    /// </param>
    /// <param name="http">The client for the instance metadata service.</param>
    public AwsMethod(MethodSettings settings, string mountPath, Func<string, string?> environment, TimeProvider time, ILogger logger,
        Func<CancellationToken, Task<ImmutableCredentials>>? resolveCredentials = null, HttpMessageInvoker? http = null)
    {
        _mountPath = mountPath;
        _environment = environment;
        _time = time;
        _logger = logger;
        AuthType = settings.GetRequiredString("type");
        _role = settings.GetRequiredString("role");
        _headerValue = settings.GetString("header_value");
        _nonce = settings.GetString("nonce");

        // Vault sets us-east-1 unless region is given; an empty region is looked up as awsutil.GetRegion does.
        _region = settings.GetString("region")
            ?? (settings.Map.Contains("region") ? environment("AWS_REGION") ?? environment("AWS_DEFAULT_REGION") ?? DefaultRegion : DefaultRegion);
        CredentialPollInterval = settings.GetInt64("credential_poll_interval") is { } seconds
            ? TimeSpan.FromSeconds(seconds) : DefaultCredentialPollInterval;
        if (settings.GetString("access_key") is { } accessKey && settings.GetString("secret_key") is { } secretKey)
        {
            _static = new ImmutableCredentials(accessKey, secretKey, settings.GetString("session_token"));
        }

        _resolve = resolveCredentials ?? ResolveDefaultChainAsync;
        _http = http ?? new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = ImdsTimeout }, disposeHandler: true);
    }

    public string Type => "aws";

    /// <summary><c>iam</c> or <c>ec2</c>.</summary>
    public string AuthType { get; }

    public string Region => _region;

    public TimeSpan CredentialPollInterval { get; }

    /// <summary>The instance metadata service: <c>AWS_EC2_METADATA_SERVICE_ENDPOINT</c> (the SDKs' override) or 169.254.169.254.</summary>
    public string ImdsEndpoint => (_environment(ImdsEndpointVariable) is { Length: > 0 } e ? e.Trim() : DefaultImdsEndpoint).TrimEnd('/');

    /// <summary>The ec2 nonce: configured, or made at the first ec2 login; null before it.</summary>
    public string? Nonce
    {
        get
        {
            lock (_gate)
            {
                return _nonce;
            }
        }
    }

    public ChannelReader<bool> NewCredentials => _watch.Changed;

    /// <summary>Test hook: raised each time the credential poller's timer is armed.</summary>
    internal event Action? PollerWaiting;

    /// <summary>
    /// The STS endpoint the signed request names: the global one for us-east-1 (and, as aws-sdk-go v1's legacy rule, for
    /// the older regions unless <c>AWS_STS_REGIONAL_ENDPOINTS=regional</c>), the regional one otherwise.
    /// </summary>
    public string StsEndpoint()
    {
        var regional = string.Equals(_environment(StsRegionalEndpointsVariable), "regional", StringComparison.OrdinalIgnoreCase);
        if (_region == "aws-global" || (!regional && LegacyGlobalStsRegions.Contains(_region)))
        {
            return "https://sts.amazonaws.com/";
        }

        return _region.StartsWith("cn-", StringComparison.Ordinal)
            ? $"https://sts.{_region}.amazonaws.com.cn/"
            : $"https://sts.{_region}.amazonaws.com/";
    }

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var data = AuthType == "ec2"
            ? await Ec2LoginDataAsync(cancellationToken).ConfigureAwait(false)
            : await IamLoginDataAsync(cancellationToken).ConfigureAwait(false);
        if (data.Error is not null)
        {
            return LoginRequest.Failed(data.Error);
        }

        data.Body!["role"] = _role;
        return LoginRequest.Login(_mountPath, data.Body);
    }

    /// <summary>The credential poller (iam only; ec2 has no credentials to watch).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (AuthType != "iam")
        {
            return;
        }

        await CredentialPoller.RunAsync(CredentialPollInterval, _time, () => PollerWaiting?.Invoke(), CheckCredentialsAsync, cancellationToken)
            .ConfigureAwait(false);

    }

    /// <summary>One poll: fetch the credentials; when they differ from the last ones, keep them and say so.</summary>
    internal async Task CheckCredentialsAsync(CancellationToken cancellationToken)
    {
        ImmutableCredentials current;
        try
        {
            current = await RetrieveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsCredentialFailure(e, cancellationToken))
        {
            Log.PollFailed(_logger, Describe(e));
            return;
        }

        _watch.Observe(current, credentials => Log.NewCredentials(_logger, credentials.AccessKey));
    }

    /// <summary>The signed GetCallerIdentity request as Vault's iam login takes it.</summary>
    internal async Task<(Dictionary<string, string>? Body, string? Error)> IamLoginDataAsync(CancellationToken cancellationToken)
    {
        ImmutableCredentials credentials;
        try
        {
            credentials = await RetrieveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsCredentialFailure(e, cancellationToken))
        {
            return (null, $"error creating login value: failed to retrieve AWS credentials: {Describe(e)} " +
                "(set access_key and secret_key, or give the AWS SDK credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, " +
                "a shared credentials file and AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or an instance profile)");
        }

        _watch.Remember(credentials);

        var url = StsEndpoint();
        var body = Encoding.UTF8.GetBytes(GetCallerIdentityBody);
        var request = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = new Uri(url), Content = body };
        request.Headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8";
        if (_headerValue is not null)
        {
            request.Headers[ServerIdHeader] = _headerValue;
        }

        AWSSigningResult signed;
        try
        {
            signed = await AWSSigV4Signer.SignAsync(request, new AWSSigV4Parameters
            {
                Credentials = credentials.UseToken
                    ? new SessionAWSCredentials(credentials.AccessKey, credentials.SecretKey, credentials.Token)
                    : new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey),
                Region = RegionEndpoint.GetBySystemName(_region),
                Service = "sts",
                SignPayload = true,
                SignedAt = _time.GetUtcNow().UtcDateTime,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonClientException or ArgumentException)
        {
            return (null, $"error creating login value: signing the GetCallerIdentity request failed: {e.Message}");
        }

        // Go's http.Header as JSON: canonical names, each with a list of values, keys sorted.
        var headers = new SortedDictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["User-Agent"] = [$"Gatehouse/{ProductInfo.Version} (aws auto-auth)"],
        };
        foreach (var (name, value) in request.Headers.Concat(signed.Headers))
        {
            headers[CanonicalHeaderKey(name)] = [value];
        }

        return (new Dictionary<string, string>
        {
            ["iam_http_request_method"] = "POST",
            ["iam_request_url"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(url)),
            ["iam_request_body"] = Convert.ToBase64String(body),
            ["iam_request_headers"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(MethodHttp.GoHeaderJson(headers))),
        }, null);
    }

    private async Task<(Dictionary<string, string>? Body, string? Error)> Ec2LoginDataAsync(CancellationToken cancellationToken)
    {
        if (string.Equals(_environment(ImdsDisabledVariable), "true", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"error requesting doc: EC2 IMDS access disabled via {ImdsDisabledVariable} env var");
        }

        var imds = ImdsEndpoint;
        var token = await ImdsTokenAsync(imds, cancellationToken).ConfigureAwait(false);
        if (token.Error is not null)
        {
            return (null, $"error requesting doc: {token.Error}");
        }

        var document = await ImdsGetAsync(imds, "/latest/dynamic/instance-identity/document", token.Token, cancellationToken).ConfigureAwait(false);
        if (document.Error is not null)
        {
            return (null, $"error requesting doc: {document.Error}");
        }

        var signature = await ImdsGetAsync(imds, "/latest/dynamic/instance-identity/signature", token.Token, cancellationToken).ConfigureAwait(false);
        if (signature.Error is not null)
        {
            return (null, $"error requesting signature: {signature.Error}");
        }

        string nonce;
        lock (_gate)
        {
            // Vault Agent's reauthentication value: made once, reused for every login of this process.
            nonce = _nonce ??= Guid.NewGuid().ToString();
        }

        return (new Dictionary<string, string>
        {
            ["identity"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(document.Body!)),
            ["signature"] = signature.Body!,
            ["nonce"] = nonce,
        }, null);
    }

    /// <summary>
    /// IMDSv2: <c>PUT /latest/api/token</c>. As the AWS SDKs: 403, 404 and 405 mean the service does not take tokens
    /// (IMDSv1 follows, no token); 400 and an unreachable service are errors.
    /// </summary>
    private async Task<(string? Token, string? Error)> ImdsTokenAsync(string imds, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, imds + "/latest/api/token");
        request.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", ImdsTokenTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var answer = await ImdsSendAsync(request, cancellationToken).ConfigureAwait(false);
        if (answer.Error is not null)
        {
            return (null, answer.Error);
        }

        return answer.Status switch
        {
            200 => (answer.Body!.Trim(), null),
            403 or 404 or 405 => (null, null),
            _ => (null, $"the instance metadata service at {imds} refused a session token: HTTP {answer.Status}"),
        };
    }

    private async Task<(string? Body, string? Error)> ImdsGetAsync(string imds, string path, string? token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, imds + path);
        if (token is not null)
        {
            request.Headers.Add("X-aws-ec2-metadata-token", token);
        }

        var answer = await ImdsSendAsync(request, cancellationToken).ConfigureAwait(false);
        return answer.Error is not null ? (null, answer.Error)
            : answer.Status == 200 ? (answer.Body, null)
            : (null, $"EC2MetadataError: failed to make EC2Metadata request: HTTP {answer.Status} from {imds}{path}");
    }

    private async Task<(int Status, string? Body, string? Error)> ImdsSendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var answer = await MethodHttp.SendAsync(_http, request, ImdsTimeout, _time, cancellationToken).ConfigureAwait(false);
        return answer.TimedOut ? (0, null, $"the instance metadata service at {ImdsEndpoint} did not answer within {(int)ImdsTimeout.TotalSeconds} seconds")
            : answer.Failure is { } failure ? (0, null, $"the instance metadata service at {ImdsEndpoint} is unreachable ({failure}); ec2 logins need an EC2 " +
                $"instance's metadata service (set {ImdsEndpointVariable} to point elsewhere)")
            : (answer.Status, answer.Body, null);
    }

    private async Task<ImmutableCredentials> RetrieveAsync(CancellationToken cancellationToken)
    {
        var credentials = _static ?? await _resolve(cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(credentials.AccessKey) || string.IsNullOrEmpty(credentials.SecretKey)
            ? throw new AmazonClientException("the credentials found have no access key or secret key")
            : credentials;
    }

    private static int _stsClientRegistered;

    /// <summary>The SDK's default chain, built afresh so that a changed file or environment is seen at once.</summary>
    private static async Task<ImmutableCredentials> ResolveDefaultChainAsync(CancellationToken cancellationToken)
    {
        // Web identity (IRSA) and assumed roles need an STS client. A JIT build's SDK loads AWSSDK.SecurityToken by
        // reflection; a Native AOT build cannot, and asks this registry instead (the SDK's own message through the AOT
        // binary, AwsCredentialChainProcessTests.WebIdentity_…). Registered once, and used by both builds.
        if (Interlocked.Exchange(ref _stsClientRegistered, 1) == 0)
        {
            GlobalRuntimeDependencyRegistry.Instance.RegisterSecurityTokenServiceClient(
                context => new AmazonSecurityTokenServiceClient(context.SecurityTokenServiceClientContextData.Region));
        }

        using var resolver = new DefaultAWSCredentialsIdentityResolver();
        var credentials = await resolver.ResolveIdentityAsync(null!, cancellationToken).ConfigureAwait(false);
        return await credentials.GetCredentialsAsync().ConfigureAwait(false);
    }

    // The SDK's providers fail with their own exceptions (AmazonClientException and subclasses, AmazonServiceException
    // from STS) but also with what they meet on the way: a bad path or value (ArgumentException), an unreadable file
    // (IOException, UnauthorizedAccessException), an endpoint that does not answer (HttpRequestException, a timeout's
    // TaskCanceledException) or answers nonsense (FormatException, InvalidOperationException, JsonException). Each is a
    // failed login to retry, never a crashed auth loop; shutting down is not one.
    private static bool IsCredentialFailure(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AmazonClientException or AmazonServiceException or ArgumentException or IOException or UnauthorizedAccessException
            or HttpRequestException or FormatException or InvalidOperationException or JsonException or System.Xml.XmlException
            or System.Security.Cryptography.CryptographicException => true,
        _ => false,
    };

    // The SDK's messages name files, variables and endpoints, never a secret.
    private static string Describe(Exception e) => e.InnerException is { } inner && e.Message.Length < 200
        ? $"{e.Message} ({inner.Message})" : e.Message;

    private static bool SameCredentials(ImmutableCredentials a, ImmutableCredentials b) =>
        a.AccessKey == b.AccessKey && a.SecretKey == b.SecretKey && (a.Token ?? "") == (b.Token ?? "");

    /// <summary>Go's <c>textproto.CanonicalMIMEHeaderKey</c>: <c>x-amz-date</c> → <c>X-Amz-Date</c>.</summary>
    internal static string CanonicalHeaderKey(string name)
    {
        var chars = name.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }

        return new string(chars);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AwsMethodPollFailed, Level = LogLevel.Warning, Message = "aws: unable to retrieve current creds, retaining last creds: {Error}")]
        public static partial void PollFailed(ILogger logger, string error);

        [LoggerMessage(EventId = LogEvents.AwsMethodNewCredentials, Level = LogLevel.Information, Message = "aws: new credentials detected (access key {AccessKeyId})")]
        public static partial void NewCredentials(ILogger logger, string accessKeyId);
    }
}
