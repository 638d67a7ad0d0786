using System.Runtime.InteropServices;
using System.Text;

namespace Gatehouse.AutoAuth.Methods;

/// <summary>
/// The SPNEGO initiator of the <c>kerberos</c> method, over the system's MIT GSSAPI (<c>libgssapi_krb5.so.2</c>) and
/// libkrb5 (<c>libkrb5.so.3</c>). One call gets a fresh ticket-granting ticket from the KDC with the keytab (MIT's
/// client-keytab initiation through <c>gss_acquire_cred_from</c>, into a <c>MEMORY:</c> credential cache of its own,
/// destroyed afterwards), a service ticket for the SPN, and the SPNEGO <c>NegTokenInit</c> that Vault's kerberos
/// backend verifies. krb5.conf is the one named by the native <c>KRB5_CONFIG</c> variable, set here with libc's
/// <c>setenv</c> (.NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach native code
/// on Unix): process-wide, so a process runs one kerberos configuration at a time (calls are serialized). Keys and
/// tickets stay inside the native library; only the SPNEGO token (a one-time authenticator, sent to Vault and never
/// logged) comes back.
/// </summary>
internal static partial class GssInitiator
{
    private const string GssLibrary = "libgssapi_krb5.so.2";
    private const string Krb5Library = "libkrb5.so.3";
    private const uint Indefinite = 0xffffffff;
    private const int Initiate = 1;
    private const uint ConfFlag = 16;
    private const uint IntegFlag = 32;
    private const uint ContinueNeeded = 1;
    private const int GssCode = 1;
    private const int MechCode = 2;

    private static readonly Lock Gate = new();

    // OIDs live in unmanaged memory for the life of the process (they are tiny and GSSAPI keeps pointers to them).
    private static readonly IntPtr Krb5Mech = Oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);
    private static readonly IntPtr Krb5PrincipalName = Oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01]);
    private static readonly IntPtr SpnegoMech = Oid([0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);

    /// <summary>Whether the native GSSAPI library can be loaded on this machine.</summary>
    public static bool IsAvailable => NativeLibrary.TryLoad(GssLibrary, out _);

    /// <summary>
    /// A SPNEGO token for <paramref name="service"/>, logging in as <paramref name="client"/> with the keys in
    /// <paramref name="keytabPath"/>, or the failure as GSSAPI words it.
    /// </summary>
    public static (byte[]? Token, string? Error) CreateToken(string client, string service, string keytabPath, string krb5ConfPath)
    {
        lock (Gate)
        {
            try
            {
                return CreateTokenLocked(client, service, keytabPath, krb5ConfPath);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return (null, $"the system's GSSAPI library ({GssLibrary}, Debian package libgssapi-krb5-2) could not be loaded: {e.Message}");
            }
        }
    }

    private static (byte[]? Token, string? Error) CreateTokenLocked(string client, string service, string keytabPath, string krb5ConfPath)
    {
        if (NativeGetEnv("KRB5_CONFIG") != krb5ConfPath)
        {
            SetEnv("KRB5_CONFIG", krb5ConfPath, 1);
        }

        var ccacheName = "MEMORY:gatehouse-" + Guid.NewGuid().ToString("N");
        IntPtr clientName = IntPtr.Zero, serviceName = IntPtr.Zero, cred = IntPtr.Zero, context = IntPtr.Zero;
        var keys = new[] { Utf8("client_keytab"), Utf8(keytabPath), Utf8("ccache"), Utf8(ccacheName) };
        var elements = Marshal.AllocHGlobal(IntPtr.Size * 4);
        var mechs = Marshal.AllocHGlobal(IntPtr.Size * 2);
        try
        {
            uint minor;
            var major = ImportName(client, out clientName, out minor);
            if (IsError(major))
            {
                return (null, $"invalid principal name \"{client}\": {Describe(major, minor)}");
            }

            major = ImportName(service, out serviceName, out minor);
            if (IsError(major))
            {
                return (null, $"invalid service principal name \"{service}\": {Describe(major, minor)}");
            }

            for (var i = 0; i < 4; i++)
            {
                Marshal.WriteIntPtr(elements, i * IntPtr.Size, keys[i]);
            }

            var store = new KeyValueSet { Count = 2, Elements = elements };
            Marshal.WriteIntPtr(mechs, 0, 1);
            // First as Kerberos itself: the AS exchange with the KDC happens here (the TGT goes into the MEMORY cache),
            // and a failure comes back in Kerberos's words (SPNEGO would only say it found no mechanism).
            Marshal.WriteIntPtr(mechs, IntPtr.Size, Krb5Mech);
            major = gss_acquire_cred_from(out minor, clientName, Indefinite, mechs, Initiate, ref store, out cred, IntPtr.Zero, IntPtr.Zero);
            if (IsError(major))
            {
                return (null, $"couldn't acquire credentials for {client} from keytab {keytabPath}: {Describe(major, minor)}");
            }

            _ = gss_release_cred(out _, ref cred);
            cred = IntPtr.Zero;

            // Then as SPNEGO over the same cache, which now holds the TGT.
            Marshal.WriteIntPtr(mechs, IntPtr.Size, SpnegoMech);
            major = gss_acquire_cred_from(out minor, clientName, Indefinite, mechs, Initiate, ref store, out cred, IntPtr.Zero, IntPtr.Zero);
            if (IsError(major))
            {
                return (null, $"couldn't acquire SPNEGO credentials for {client}: {Describe(major, minor)}");
            }

            // SPNEGO offers Kerberos only, as gokrb5's client does.
            Marshal.WriteIntPtr(mechs, IntPtr.Size, Krb5Mech);
            major = gss_set_neg_mechs(out minor, cred, mechs);
            if (IsError(major))
            {
                return (null, $"couldn't limit SPNEGO to Kerberos: {Describe(major, minor)}");
            }

            var input = default(Buffer);
            var output = default(Buffer);
            major = gss_init_sec_context(out minor, cred, ref context, serviceName, SpnegoMech, ConfFlag | IntegFlag, 0, IntPtr.Zero,
                ref input, IntPtr.Zero, ref output, IntPtr.Zero, IntPtr.Zero);
            try
            {
                if (IsError(major))
                {
                    return (null, $"couldn't get a service ticket for {service} as {client}: {Describe(major, minor)}");
                }

                if (output.Length == 0 || (major != 0 && major != ContinueNeeded))
                {
                    return (null, $"GSSAPI gave no SPNEGO token for {service} (status {major})");
                }

                var token = new byte[(int)output.Length];
                Marshal.Copy(output.Value, token, 0, token.Length);
                return (token, null);
            }
            finally
            {
                _ = gss_release_buffer(out _, ref output);
            }
        }
        finally
        {
            if (context != IntPtr.Zero)
            {
                _ = gss_delete_sec_context(out _, ref context, IntPtr.Zero);
            }

            if (cred != IntPtr.Zero)
            {
                _ = gss_release_cred(out _, ref cred);
            }

            if (clientName != IntPtr.Zero)
            {
                _ = gss_release_name(out _, ref clientName);
            }

            if (serviceName != IntPtr.Zero)
            {
                _ = gss_release_name(out _, ref serviceName);
            }

            DestroyCache(ccacheName);
            foreach (var key in keys)
            {
                Marshal.FreeCoTaskMem(key);
            }

            Marshal.FreeHGlobal(elements);
            Marshal.FreeHGlobal(mechs);
        }
    }

    private static bool IsError(uint major) => (major & 0xffff0000) != 0;

    private static uint ImportName(string name, out IntPtr result, out uint minor)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var buffer = new Buffer { Length = (nuint)bytes.Length, Value = Marshal.AllocHGlobal(Math.Max(1, bytes.Length)) };
        try
        {
            Marshal.Copy(bytes, 0, buffer.Value, bytes.Length);
            return gss_import_name(out minor, ref buffer, Krb5PrincipalName, out result);
        }
        finally
        {
            Marshal.FreeHGlobal(buffer.Value);
        }
    }

    /// <summary>GSSAPI's own words for a failure: the major status, then the mechanism's (Kerberos's) message.</summary>
    private static string Describe(uint major, uint minor)
    {
        var parts = new List<string>();
        foreach (var (code, type, mech) in new[] { (major, GssCode, IntPtr.Zero), (minor, MechCode, Krb5Mech) })
        {
            if (code == 0)
            {
                continue;
            }

            uint messageContext = 0;
            do
            {
                var text = default(Buffer);
                if (IsError(gss_display_status(out _, code, type, mech, ref messageContext, ref text)))
                {
                    break;
                }

                var message = text.Length == 0 ? "" : Marshal.PtrToStringUTF8(text.Value, (int)text.Length);
                _ = gss_release_buffer(out _, ref text);
                if (message.Length > 0 && !parts.Contains(message))
                {
                    parts.Add(message);
                }
            }
            while (messageContext != 0);
        }

        return parts.Count == 0 ? $"GSSAPI status {major:x8}/{minor}" : string.Join(": ", parts);
    }

    private static void DestroyCache(string name)
    {
        if (krb5_init_context(out var context) != 0)
        {
            return;
        }

        try
        {
            if (krb5_cc_resolve(context, name, out var cache) == 0)
            {
                _ = krb5_cc_destroy(context, cache);
            }
        }
        finally
        {
            krb5_free_context(context);
        }
    }

    private static string? NativeGetEnv(string name) => Marshal.PtrToStringUTF8(GetEnv(name));

    private static IntPtr Utf8(string value) => Marshal.StringToCoTaskMemUTF8(value);

    private static IntPtr Oid(byte[] der)
    {
        var elements = Marshal.AllocHGlobal(der.Length);
        Marshal.Copy(der, 0, elements, der.Length);
        var oid = Marshal.AllocHGlobal(Marshal.SizeOf<OidDesc>());
        Marshal.StructureToPtr(new OidDesc { Length = (uint)der.Length, Elements = elements }, oid, false);
        return oid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
    {
        public nuint Length;
        public IntPtr Value;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OidDesc
    {
        public uint Length;
        public IntPtr Elements;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct KeyValueSet
    {
        public uint Count;
        public IntPtr Elements;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_import_name(out uint minor, ref Buffer name, IntPtr nameType, out IntPtr output);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_acquire_cred_from(out uint minor, IntPtr desiredName, uint timeReq, IntPtr desiredMechs, int usage,
        ref KeyValueSet credStore, out IntPtr cred, IntPtr actualMechs, IntPtr timeRec);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_set_neg_mechs(out uint minor, IntPtr cred, IntPtr mechs);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_init_sec_context(out uint minor, IntPtr cred, ref IntPtr context, IntPtr target, IntPtr mech, uint flags,
        uint timeReq, IntPtr bindings, ref Buffer input, IntPtr actualMech, ref Buffer output, IntPtr retFlags, IntPtr timeRec);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_display_status(out uint minor, uint status, int statusType, IntPtr mech, ref uint messageContext, ref Buffer text);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_release_buffer(out uint minor, ref Buffer buffer);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_release_name(out uint minor, ref IntPtr name);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_release_cred(out uint minor, ref IntPtr cred);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_delete_sec_context(out uint minor, ref IntPtr context, IntPtr output);

    [LibraryImport(Krb5Library)]
    private static partial int krb5_init_context(out IntPtr context);

    [LibraryImport(Krb5Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int krb5_cc_resolve(IntPtr context, string name, out IntPtr cache);

    [LibraryImport(Krb5Library)]
    private static partial int krb5_cc_destroy(IntPtr context, IntPtr cache);

    [LibraryImport(Krb5Library)]
    private static partial void krb5_free_context(IntPtr context);
}
