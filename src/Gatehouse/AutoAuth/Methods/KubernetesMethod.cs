using Gatehouse.Configuration;
using Gatehouse.Vault;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>kubernetes</c>: role (required), token_path (default: the pod's service account token). The token is read at
/// every login, because the kubelet rotates projected tokens; as in Vault, a missing token is a failed login (a
/// cached one would have expired anyway).
/// </summary>
internal sealed class KubernetesMethod : IAuthMethod
{
    private readonly string _mountPath;
    private readonly string _role;
    private readonly string _tokenPath;

    public KubernetesMethod(MethodSettings settings, string mountPath)
    {
        _mountPath = mountPath;
        _role = settings.GetRequiredString("role");
        _tokenPath = settings.GetString("token_path") ?? Defaults.KubernetesTokenPath;
    }

    public string Type => "kubernetes";

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var read = CredentialFile.Read(_tokenPath);
        return Task.FromResult(read.IsSuccess
            ? LoginRequest.Login(_mountPath, new Dictionary<string, string> { ["role"] = _role, ["jwt"] = read.Value! })
            : LoginRequest.Failed($"error reading the service account token: {read.Message}"));
    }
}
