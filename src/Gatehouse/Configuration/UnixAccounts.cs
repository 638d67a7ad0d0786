using System.Globalization;
using System.Runtime.InteropServices;

namespace Gatehouse.Configuration;

/// <summary>
/// The host's users and groups, by name or numeric id, for a unix listener's <c>socket_user</c> and
/// <c>socket_group</c>: the validator checks that they exist on this host, and the listener uses the ids it finds.
/// A numeric value is taken as the id without a lookup, as chown(1) does.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static partial class UnixAccounts
{
    public static bool TryResolveUser(string user, out int uid)
    {
        if (int.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uid))
        {
            return true;
        }

        // struct passwd { char* pw_name; char* pw_passwd; uid_t pw_uid; ... }: pw_uid follows two pointers.
        var entry = GetPwNam(user);
        uid = entry != 0 ? Marshal.ReadInt32(entry, 2 * IntPtr.Size) : -1;
        return entry != 0;
    }

    public static bool TryResolveGroup(string group, out int gid)
    {
        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out gid))
        {
            return true;
        }

        // struct group { char* gr_name; char* gr_passwd; gid_t gr_gid; ... }
        var entry = GetGrNam(group);
        gid = entry != 0 ? Marshal.ReadInt32(entry, 2 * IntPtr.Size) : -1;
        return entry != 0;
    }

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetGrNam(string name);
}
