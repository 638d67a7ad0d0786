namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// What alibaba-cloud-sdk-go's credential providers (<c>providers.Retrieve</c>) hand Vault Agent: a description of the
/// credential, not yet a signing key for the role, key pair and ECS kinds (the SDK's client turns those into session
/// keys, by AssumeRole, GenerateSessionAccessKey or the ECS metadata service, each time a request is signed). Value
/// equality is Vault's <c>reflect.DeepEqual</c> of two retrievals: only a changed description (a rotated static or
/// metadata-service key) is a new credential. ToString never shows a secret.
/// </summary>
internal sealed record AlicloudCredential
{
    public required AlicloudCredentialKind Kind { get; init; }

    public string AccessKeyId { get; init; } = "";

    public string AccessKeySecret { get; init; } = "";

    public string SecurityToken { get; init; } = "";

    public string RoleArn { get; init; } = "";

    public string RoleSessionName { get; init; } = "";

    /// <summary>AssumeRole's DurationSeconds; 0: 3600.</summary>
    public int RoleSessionExpiration { get; init; }

    public string RoleName { get; init; } = "";

    /// <summary>Base64 of a PKCS#8 RSA private key (secret).</summary>
    public string PrivateKey { get; init; } = "";

    public string PublicKeyId { get; init; } = "";

    /// <summary>GenerateSessionAccessKey's DurationSeconds; 0: 3600.</summary>
    public int SessionExpiration { get; init; }

    public override string ToString() => Kind switch
    {
        AlicloudCredentialKind.RamRoleArn => $"{Kind} (access key {AccessKeyId}, role {RoleArn})",
        AlicloudCredentialKind.EcsRamRole => $"{Kind} (role {RoleName})",
        AlicloudCredentialKind.RsaKeyPair => $"{Kind} (public key {PublicKeyId})",
        _ => $"{Kind} (access key {AccessKeyId})",
    };

    /// <summary>
    /// The SDK's <c>ConfigurationProvider.Retrieve</c>: access key and secret first (assuming <c>role_arn</c> when
    /// role_session_name and role_session_expiration are set too; with an STS token; or plain), then an ECS RAM role
    /// name, then an RSA key pair with its session_expiration; null when none is complete ("no valid credentials were found").
    /// </summary>
    public static AlicloudCredential? From(AlicloudCredentialSettings s)
    {
        if (s.AccessKeyId.Length > 0 && s.AccessKeySecret.Length > 0)
        {
            if (s.RoleArn.Length > 0 && s.RoleSessionName.Length > 0 && s.RoleSessionExpiration is { } roleExpiration)
            {
                return new AlicloudCredential
                {
                    Kind = AlicloudCredentialKind.RamRoleArn, AccessKeyId = s.AccessKeyId, AccessKeySecret = s.AccessKeySecret,
                    RoleArn = s.RoleArn, RoleSessionName = s.RoleSessionName, RoleSessionExpiration = roleExpiration,
                };
            }

            return s.AccessKeyStsToken.Length > 0
                ? new AlicloudCredential
                {
                    Kind = AlicloudCredentialKind.StsToken, AccessKeyId = s.AccessKeyId, AccessKeySecret = s.AccessKeySecret,
                    SecurityToken = s.AccessKeyStsToken,
                }
                : new AlicloudCredential { Kind = AlicloudCredentialKind.AccessKey, AccessKeyId = s.AccessKeyId, AccessKeySecret = s.AccessKeySecret };
        }

        if (s.RoleName.Length > 0)
        {
            return new AlicloudCredential { Kind = AlicloudCredentialKind.EcsRamRole, RoleName = s.RoleName };
        }

        if (s.PrivateKey.Length > 0 && s.PublicKeyId.Length > 0 && s.SessionExpiration is { } sessionExpiration)
        {
            return new AlicloudCredential
            {
                Kind = AlicloudCredentialKind.RsaKeyPair, PrivateKey = s.PrivateKey, PublicKeyId = s.PublicKeyId, SessionExpiration = sessionExpiration,
            };
        }

        return null;
    }
}

internal enum AlicloudCredentialKind
{
    /// <summary>A static access key (the SDK's provider name <c>static_ak</c>).</summary>
    AccessKey,

    /// <summary>A static access key with an STS token (<c>static_sts</c>); also what the metadata-service fallback yields.</summary>
    StsToken,

    /// <summary>Assume <c>role_arn</c> with the access key (<c>ram_role_arn/static_ak</c>).</summary>
    RamRoleArn,

    /// <summary>The ECS instance's RAM role credentials from the metadata service (<c>ecs_ram_role</c>).</summary>
    EcsRamRole,

    /// <summary>A session access key made with an RSA key pair (<c>rsa_key_pair</c>).</summary>
    RsaKeyPair,
}

/// <summary>The SDK's <c>providers.Configuration</c>: one source's values (the method's config, or ALICLOUD_* variables).</summary>
internal sealed record AlicloudCredentialSettings
{
    public string AccessKeyId { get; init; } = "";

    public string AccessKeySecret { get; init; } = "";

    public string AccessKeyStsToken { get; init; } = "";

    public string RoleArn { get; init; } = "";

    public string RoleSessionName { get; init; } = "";

    public int? RoleSessionExpiration { get; init; }

    public string PrivateKey { get; init; } = "";

    public string PublicKeyId { get; init; } = "";

    public int? SessionExpiration { get; init; }

    public string RoleName { get; init; } = "";

    // Secrets: a record's generated ToString would print them.
    public override string ToString() => $"AlicloudCredentialSettings {{ AccessKeyId = {AccessKeyId}, RoleArn = {RoleArn}, RoleName = {RoleName} }}";
}
