using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth;

/// <summary>
/// Maps <c>auto_auth.method</c> to its <see cref="IAuthMethod"/>, after checking its keys with the same
/// <see cref="MethodConfigRules"/> config validation uses. Throws <see cref="AutoAuthConfigException"/>.
/// </summary>
internal static class AuthMethodFactory
{
    public static IAuthMethod Create(GatehouseConfig config, AuthMethodConfig method, TimeProvider time, ILoggerFactory loggers,
        Func<string, string?>? environment = null, AzureIdentityTransport? azureTransport = null)
    {
        var type = method.Type.ToLowerInvariant();
        var owner = $"auto_auth.method \"{type}\"";
        var problems = new List<ConfigDiagnostic>();
        MethodConfigRules.Check(method with { Type = type }, owner, problems);
        MethodSettings.Validate(problems);
        var settings = new MethodSettings(method.Config, owner);
        var mountPath = method.EffectiveMountPath;
        var env = environment ?? Environment.GetEnvironmentVariable;
        return type switch
        {
            "approle" => new AppRoleMethod(settings, mountPath, loggers.CreateLogger<AppRoleMethod>()),
            "token_file" => new TokenFileMethod(settings, loggers.CreateLogger<TokenFileMethod>()),
            "jwt" => new JwtMethod(settings, mountPath, time, loggers.CreateLogger<JwtMethod>()),
            "kubernetes" => new KubernetesMethod(settings, mountPath),
            "gcp" => new GcpMethod(settings, mountPath, env(GcpMethod.MetadataHostVariable), time, environment: env),
            "ldap" => new LdapMethod(settings, mountPath, time, loggers.CreateLogger<LdapMethod>()),
            "cert" => new CertMethod(settings, mountPath, config, time),
            "cf" or "pcf" => new CfMethod(settings, mountPath, env, time),
            "azure" => new AzureMethod(settings, mountPath, env, azureTransport?.Transport),
            "aws" => new AwsMethod(settings, mountPath, env, time, loggers.CreateLogger<AwsMethod>()),
            "kerberos" => new KerberosMethod(settings, mountPath),
            "alicloud" => new AlicloudMethod(settings, mountPath, env, time, loggers.CreateLogger<AlicloudMethod>()),
            "oci" => new OciMethod(settings, mountPath, env, time, loggers.CreateLogger<OciMethod>()),
            _ => throw new AutoAuthConfigException(
                $"Error creating {type} auth method: unknown auth method \"{type}\" (Gatehouse supports alicloud, approle, aws, azure, cert, cf, gcp, jwt, kerberos, kubernetes, ldap, oci, pcf and token_file)"),
        };
    }
}
