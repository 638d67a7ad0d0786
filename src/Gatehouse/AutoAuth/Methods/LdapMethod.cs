using Gatehouse.GoCompat;
using Gatehouse.Vault;
using Microsoft.Extensions.Logging;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// <c>ldap</c>: username and password_file_path (required), remove_password_after_reading (default true),
/// remove_password_follows_symlinks (default false), password_read_period (default 1 minute; half a second when the
/// file is removed after reading and no period is set). The login is <c>PUT &lt;mount_path&gt;/login/&lt;username&gt;</c>
/// with <c>{"password": …}</c>. The password file is read at every login and, between logins, every read period; the
/// latest password seen is used, and a missing or empty file keeps it. The password is sent exactly as the file holds
/// it (Vault does not trim it either), and is never logged.
/// </summary>
internal sealed partial class LdapMethod : IBackgroundAuthMethod
{
    private static readonly TimeSpan DefaultReadPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RemovingReadPeriod = TimeSpan.FromMilliseconds(500);

    private readonly string _mountPath;
    private readonly string _username;
    private readonly string _path;
    private readonly bool _remove;
    private readonly bool _followSymlinks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private string? _latestPassword;

    public LdapMethod(MethodSettings settings, string mountPath, TimeProvider time, ILogger logger)
    {
        _mountPath = mountPath;
        _time = time;
        _logger = logger;
        _username = settings.GetRequiredString("username");
        _path = settings.GetRequiredString("password_file_path");
        _remove = settings.GetBool("remove_password_after_reading", defaultValue: true);
        _followSymlinks = settings.GetBool("remove_password_follows_symlinks", defaultValue: false);
        ReadPeriod = settings.GetDuration("password_read_period") ?? (_remove ? RemovingReadPeriod : DefaultReadPeriod);
    }

    public string Type => "ldap";

    public TimeSpan ReadPeriod { get; }

    /// <summary>
    /// <c>&lt;mount_path&gt;/login/&lt;username&gt;</c>, the username escaped as Go's URL path encoding does (a
    /// <c>/</c> stays a separator, as it does for Vault Agent).
    /// </summary>
    public string LoginPath => $"{_mountPath.Trim('/')}/login/{GoPath.Escape(_username)}";

    public Task<LoginRequest> PrepareLoginAsync(VaultClient client, CancellationToken cancellationToken)
    {
        ReadPasswordFile();
        string? password;
        lock (_gate)
        {
            password = _latestPassword;
        }

        return Task.FromResult(password is null
            ? LoginRequest.Failed($"latest known password is empty, cannot authenticate (put the password for {_username} in {_path})")
            : LoginRequest.LoginAt(_mountPath, LoginPath, new Dictionary<string, string> { ["password"] = password }));
    }

    /// <summary>
    /// Test hook: raised each time the ticker starts waiting (its timer is armed), so advancing a fake clock by
    /// <see cref="ReadPeriod"/> makes it read the file once and then raise this again.
    /// </summary>
    internal event Action? TickerWaiting;

    /// <summary>The read-period ticker.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        CredentialFile.RunReadTickerAsync(ReadPeriod, _time, ReadPasswordFile, () => TickerWaiting?.Invoke(), cancellationToken);

    private void ReadPasswordFile()
    {
        lock (_gate)
        {
            if (Directory.Exists(_path))
            {
                Log.ReadFailed(_logger, $"{_path} is not a regular file or symlink");
                return;
            }

            var read = CredentialFile.Read(_path, verbatim: true);
            switch (read.Status)
            {
                case CredentialReadStatus.Missing:
                    // Normal once the password was taken: keep the latest one.
                    return;
                case CredentialReadStatus.Problem:
                    Log.ReadFailed(_logger, read.Message!);
                    return;
                case CredentialReadStatus.Empty:
                    // As Vault: warn, keep the latest password, and still remove the empty file.
                    Log.EmptyFile(_logger, _path);
                    break;
                default:
                    if (read.Value != _latestPassword && read.Value!.EndsWith('\n'))
                    {
                        Log.LineEnding(_logger, _path);
                    }

                    _latestPassword = read.Value;
                    break;
            }

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
        [LoggerMessage(EventId = LogEvents.LdapMethodReadFailed, Level = LogLevel.Error, Message = "ldap: {Problem}; keeping the latest password read")]
        public static partial void ReadFailed(ILogger logger, string problem);

        [LoggerMessage(EventId = LogEvents.LdapMethodEmptyFile, Level = LogLevel.Warning, Message = "ldap: empty password file read ({Path}); keeping the latest password read")]
        public static partial void EmptyFile(ILogger logger, string path);

        [LoggerMessage(EventId = LogEvents.LdapMethodRemoveFailed, Level = LogLevel.Error, Message = "ldap: could not remove {Path} after reading it: {Reason}")]
        public static partial void RemoveFailed(ILogger logger, string path, string reason);

        [LoggerMessage(EventId = LogEvents.LdapMethodLineEnding, Level = LogLevel.Warning, Message = "ldap: the password in {Path} ends with a line break, which is sent as part of the password (as Vault Agent does); write the file without a trailing newline if the login fails")]
        public static partial void LineEnding(ILogger logger, string path);
    }
}
