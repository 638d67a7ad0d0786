using System.Runtime.InteropServices;
using Gatehouse.Configuration;

namespace Gatehouse.Listeners;

/// <summary>
/// Applies socket_mode, socket_user and socket_group to a unix listener's socket file after it is bound. Each one
/// applies on its own (Vault Agent applies none unless all three are set, and in practice ignores them:
/// hashicorp/vault #9806). User and group are names or numeric ids (<see cref="UnixAccounts"/>, which the validator
/// checks too).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static partial class UnixSocketPermissions
{
    public static void Apply(string path, ListenerConfig config, string listenerName)
    {
        if (config.SocketUser is { Length: > 0 } || config.SocketGroup is { Length: > 0 })
        {
            var uid = config.SocketUser is { Length: > 0 } user ? ResolveUser(user, listenerName) : -1;
            var gid = config.SocketGroup is { Length: > 0 } group ? ResolveGroup(group, listenerName) : -1;
            if (Chown(path, uid, gid) != 0)
            {
                throw new ListenerStartupException(
                    $"{listenerName}: cannot set the owner of \"{path}\" to socket_user/socket_group: {Marshal.GetLastPInvokeErrorMessage()}");
            }
        }

        if (config.SocketMode is { } mode)
        {
            try
            {
                File.SetUnixFileMode(path, (UnixFileMode)(mode & 0b111_111_111));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new ListenerStartupException($"{listenerName}: cannot set socket_mode on \"{path}\": {exception.Message}", exception);
            }
        }
    }

    private static int ResolveUser(string user, string listenerName) =>
        UnixAccounts.TryResolveUser(user, out var uid)
            ? uid
            : throw new ListenerStartupException($"{listenerName}: socket_user \"{user}\" is not a known user");

    private static int ResolveGroup(string group, string listenerName) =>
        UnixAccounts.TryResolveGroup(group, out var gid)
            ? gid
            : throw new ListenerStartupException($"{listenerName}: socket_group \"{group}\" is not a known group");

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);
}
