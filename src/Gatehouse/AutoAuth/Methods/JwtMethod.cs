using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>jwt</c>: path and role (required), remove_jwt_after_reading (default true), remove_jwt_follows_symlinks
/// (default false), jwt_read_period (default 1 minute; half a second when the file is removed after reading and no
/// period is set). The file is read at every login and, between logins, every read period, so a JWT dropped into the
/// file is taken (and removed) promptly. The latest JWT seen is used; an empty or missing file keeps it.
/// </summary>
internal sealed partial class JwtMethod : IBackgroundAuthMethod
{
    private static readonly TimeSpan DefaultReadPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RemovingReadPeriod = TimeSpan.FromMilliseconds(500);

    private readonly string _mountPath;
    private readonly string _role;
    private readonly string _path;
    private readonly bool _remove;
    private readonly bool _followSymlinks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private string? _latestJwt;

    public JwtMethod(MethodSettings settings, string mountPath, TimeProvider time, ILogger logger)
    {
        _mountPath = mountPath;
        _time = time;
        _logger = logger;
        _path = settings.GetRequiredString("path");
        _role = settings.GetRequiredString("role");
        _remove = settings.GetBool("remove_jwt_after_reading", defaultValue: true);
        _followSymlinks = settings.GetBool("remove_jwt_follows_symlinks", defaultValue: false);
        ReadPeriod = settings.GetDuration("jwt_read_period") ?? (_remove ? RemovingReadPeriod : DefaultReadPeriod);
    }

    public string Type => "jwt";

    public TimeSpan ReadPeriod { get; }

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        ReadJwtFile();
        string? jwt;
        lock (_gate)
        {
            jwt = _latestJwt;
        }

        return Task.FromResult(jwt is null
            ? LoginRequest.Failed($"latest known jwt is empty, cannot authenticate (put a JWT in {_path})")
            : LoginRequest.Login(_mountPath, new Dictionary<string, string> { ["role"] = _role, ["jwt"] = jwt }));
    }

    /// <summary>
    /// Test hook: raised each time the ticker starts waiting (its timer is armed), so advancing a fake clock by
    /// <see cref="ReadPeriod"/> makes it read the file once and then raise this again.
    /// </summary>
    internal event Action? TickerWaiting;

    /// <summary>The read-period ticker.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        CredentialFile.RunReadTickerAsync(ReadPeriod, _time, ReadJwtFile, () => TickerWaiting?.Invoke(), cancellationToken);

    private void ReadJwtFile()
    {
        lock (_gate)
        {
            var read = CredentialFile.Read(_path);
            if (!read.IsSuccess)
            {
                // Missing and empty are normal once the JWT was taken; keep the latest one.
                if (read.Status == CredentialReadStatus.Problem)
                {
                    Log.ReadFailed(_logger, read.Message!);
                }

                return;
            }

            _latestJwt = read.Value;
            if (_remove)
            {
                Remove();
            }
        }
    }

    private void Remove()
    {
        if (CredentialFile.Remove(_path, _followSymlinks) is { } reason)
        {
            Log.RemoveFailed(_logger, _path, reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.JwtMethodReadFailed, Level = LogLevel.Warning, Message = "jwt: {Problem}; keeping the latest JWT read")]
        public static partial void ReadFailed(ILogger logger, string problem);

        [LoggerMessage(EventId = LogEvents.JwtMethodRemoveFailed, Level = LogLevel.Error, Message = "jwt: could not remove {Path} after reading it: {Reason}")]
        public static partial void RemoveFailed(ILogger logger, string path, string reason);
    }
}
