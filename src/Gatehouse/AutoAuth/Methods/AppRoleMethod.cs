using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>approle</c>: role_id_file_path (required), secret_id_file_path, remove_secret_id_file_after_reading (default
/// true), secret_id_response_wrapping_path. Both files are read at every login; when a file is missing or empty the
/// value read last time is used (the secret ID file is normally deleted after reading). A response-wrapped secret ID
/// is unwrapped only after <c>sys/wrapping/lookup</c> shows it was created at the configured path: anything else may
/// be a wrapping token an attacker minted, and unwrapping it would hand them the login.
/// </summary>
internal sealed partial class AppRoleMethod : IAuthMethod
{
    private readonly string _mountPath;
    private readonly string _roleIdFilePath;
    private readonly string? _secretIdFilePath;
    private readonly bool _removeSecretIdFile;
    private readonly string? _wrappingPath;
    private readonly ILogger _logger;
    private string? _cachedRoleId;
    private string? _cachedSecretId;

    public AppRoleMethod(MethodSettings settings, string mountPath, ILogger logger)
    {
        _mountPath = mountPath;
        _logger = logger;
        _roleIdFilePath = settings.GetRequiredString("role_id_file_path");
        _secretIdFilePath = settings.GetString("secret_id_file_path");
        _removeSecretIdFile = settings.GetBool("remove_secret_id_file_after_reading", defaultValue: true);
        _wrappingPath = settings.GetString("secret_id_response_wrapping_path")?.Trim('/');
    }

    public string Type => "approle";

    public async Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        // 1. Role ID: re-read every time; fall back to the last value read.
        var roleRead = CredentialFile.Read(_roleIdFilePath);
        if (roleRead.IsSuccess)
        {
            _cachedRoleId = roleRead.Value;
        }
        else if (_cachedRoleId is null)
        {
            return LoginRequest.Failed($"no known role ID: {roleRead.Message}");
        }
        else
        {
            Log.UsingCachedValue(_logger, "role ID", roleRead.Message!);
        }

        var body = new Dictionary<string, string> { ["role_id"] = _cachedRoleId! };
        if (_secretIdFilePath is null)
        {
            return LoginRequest.Login(_mountPath, body);
        }

        // 2. Secret ID: same, then (optionally) validate and unwrap, then delete the file.
        var secretRead = CredentialFile.Read(_secretIdFilePath);
        if (secretRead.IsSuccess)
        {
            var secretId = secretRead.Value!;
            if (_wrappingPath is not null)
            {
                var unwrapped = await UnwrapAsync(client, secretId, cancellationToken).ConfigureAwait(false);
                if (unwrapped.Error is not null)
                {
                    return LoginRequest.Failed(unwrapped.Error);
                }

                secretId = unwrapped.SecretId!;
            }

            _cachedSecretId = secretId;
            if (_removeSecretIdFile)
            {
                TryDelete(_secretIdFilePath);
            }
        }
        else if (_cachedSecretId is null)
        {
            return LoginRequest.Failed($"no known secret ID: {secretRead.Message}");
        }
        else
        {
            Log.UsingCachedValue(_logger, "secret ID", secretRead.Message!);
        }

        body["secret_id"] = _cachedSecretId;
        return LoginRequest.Login(_mountPath, body);
    }

    private async Task<(string? SecretId, string? Error)> UnwrapAsync(VaultClient client, string wrappingToken, CancellationToken cancellationToken)
    {
        var lookup = await client.WrappingLookupAsync(wrappingToken, cancellationToken).ConfigureAwait(false);
        if (!lookup.IsSuccess)
        {
            return (null, $"error looking up wrapped secret ID: {lookup.Error}");
        }

        var creationPath = lookup.Secret?.GetDataString("creation_path")?.Trim('/');
        if (!string.Equals(creationPath, _wrappingPath, StringComparison.Ordinal))
        {
            Log.WrappingPathMismatch(_logger, creationPath ?? "(none)", _wrappingPath!);
            return (null, "unable to validate wrapping token creation path");
        }

        var unwrap = await client.UnwrapAsync(wrappingToken, cancellationToken).ConfigureAwait(false);
        if (!unwrap.IsSuccess)
        {
            return (null, $"error unwrapping secret ID: {unwrap.Error}");
        }

        var secretId = unwrap.Secret?.GetDataString("secret_id");
        return string.IsNullOrEmpty(secretId)
            ? (null, "the unwrapped response has no data.secret_id")
            : (secretId, null);
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.RemoveFailed(_logger, path, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AppRoleMethodUsingCachedValue, Level = LogLevel.Warning, Message = "approle: {What} file unusable ({Problem}); using the value read earlier")]
        public static partial void UsingCachedValue(ILogger logger, string what, string problem);

        [LoggerMessage(EventId = LogEvents.AppRoleMethodWrappingPathMismatch, Level = LogLevel.Warning,
            Message = "SECURITY WARNING: approle: the wrapped secret ID was created at '{CreationPath}', not at the configured secret_id_response_wrapping_path '{ExpectedPath}'; refusing to unwrap it. Someone may have replaced the secret ID file.")]
        public static partial void WrappingPathMismatch(ILogger logger, string creationPath, string expectedPath);

        [LoggerMessage(EventId = LogEvents.AppRoleMethodRemoveFailed, Level = LogLevel.Error, Message = "approle: could not remove the secret ID file {Path} after reading it: {Reason}")]
        public static partial void RemoveFailed(ILogger logger, string path, string reason);
    }
}
