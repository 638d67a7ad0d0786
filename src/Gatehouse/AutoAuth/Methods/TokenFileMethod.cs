using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>token_file</c>: token_file_path (required). The token in the file is adopted after a lookup-self (which gives
/// its TTL and renewability); the file is re-read at every login and the last good value is kept if it goes away.
/// </summary>
internal sealed partial class TokenFileMethod : IAuthMethod
{
    private readonly string _path;
    private readonly ILogger _logger;
    private string? _cachedToken;

    public TokenFileMethod(MethodSettings settings, ILogger logger)
    {
        _path = settings.GetRequiredString("token_file_path");
        _logger = logger;
    }

    public string Type => "token_file";

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        var read = CredentialFile.Read(_path);
        if (read.IsSuccess)
        {
            _cachedToken = read.Value;
        }
        else if (_cachedToken is null)
        {
            return Task.FromResult(LoginRequest.Failed($"no token to use: {read.Message}"));
        }
        else
        {
            Log.UsingCachedToken(_logger, read.Message!);
        }

        return Task.FromResult(LoginRequest.Adopt(_cachedToken!));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.TokenFileMethodUsingCachedToken, Level = LogLevel.Warning, Message = "token_file: token file unusable ({Problem}); using the token read earlier")]
        public static partial void UsingCachedToken(ILogger logger, string problem);
    }
}
