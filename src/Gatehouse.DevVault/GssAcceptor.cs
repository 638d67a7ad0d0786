using System.Runtime.InteropServices;

namespace Gatehouse.DevVault;

/// <summary>
/// DevVault's kerberos backend verifies a SPNEGO token as Vault's does with gokrb5's acceptor: the service ticket
/// inside must decrypt with a key of the configured keytab, the authenticator must be fresh (clock skew, MIT's
/// replay cache) and the result is the client principal. Done with the system's MIT GSSAPI
/// (<c>libgssapi_krb5.so.2</c>): <c>gss_acquire_cred_from</c> with the keytab file as the cred store's
/// <c>keytab</c> (no process environment involved) and <c>gss_accept_sec_context</c>. Any keytab entry may decrypt
/// the ticket (no acceptor name), as Vault's own keytab is used with whatever SPN the ticket names.
/// </summary>
internal static partial class GssAcceptor
{
    private const string GssLibrary = "libgssapi_krb5.so.2";
    private const uint Indefinite = 0xffffffff;
    private const int AcceptUsage = 2;
    private const int GssCode = 1;
    private const int MechCode = 2;

    /// <summary>The client principal (<c>name@REALM</c>) the token proves, or GSSAPI's reason it does not.</summary>
    public static (string? Principal, string? Error) Accept(byte[] token, string keytabPath)
    {
        try
        {
            return AcceptCore(token, keytabPath);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return (null, $"the system's GSSAPI library ({GssLibrary}) could not be loaded: {e.Message}");
        }
    }

    private static (string? Principal, string? Error) AcceptCore(byte[] token, string keytabPath)
    {
        var keyName = Marshal.StringToCoTaskMemUTF8("keytab");
        var keyValue = Marshal.StringToCoTaskMemUTF8(keytabPath);
        var elements = Marshal.AllocHGlobal(IntPtr.Size * 2);
        var input = new Buffer { Length = (nuint)token.Length, Value = Marshal.AllocHGlobal(Math.Max(1, token.Length)) };
        IntPtr cred = IntPtr.Zero, context = IntPtr.Zero, source = IntPtr.Zero;
        try
        {
            Marshal.WriteIntPtr(elements, 0, keyName);
            Marshal.WriteIntPtr(elements, IntPtr.Size, keyValue);
            Marshal.Copy(token, 0, input.Value, token.Length);
            var store = new KeyValueSet { Count = 1, Elements = elements };
            var major = gss_acquire_cred_from(out var minor, IntPtr.Zero, Indefinite, IntPtr.Zero, AcceptUsage, ref store, out cred, IntPtr.Zero, IntPtr.Zero);
            if (IsError(major))
            {
                return (null, "could not use the configured keytab: " + Describe(major, minor));
            }

            var output = default(Buffer);
            major = gss_accept_sec_context(out minor, ref context, cred, ref input, IntPtr.Zero, out source, IntPtr.Zero, ref output,
                IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
            _ = gss_release_buffer(out _, ref output);
            if (IsError(major))
            {
                return (null, Describe(major, minor));
            }

            if (major != 0 || source == IntPtr.Zero)
            {
                return (null, "the SPNEGO token did not complete the context in one step (DevVault, as Vault, accepts only a Kerberos AP-REQ in the first token)");
            }

            var name = default(Buffer);
            major = gss_display_name(out minor, source, ref name, IntPtr.Zero);
            if (IsError(major))
            {
                return (null, Describe(major, minor));
            }

            var principal = Marshal.PtrToStringUTF8(name.Value, (int)name.Length);
            _ = gss_release_buffer(out _, ref name);
            return (principal, null);
        }
        finally
        {
            if (source != IntPtr.Zero)
            {
                _ = gss_release_name(out _, ref source);
            }

            if (context != IntPtr.Zero)
            {
                _ = gss_delete_sec_context(out _, ref context, IntPtr.Zero);
            }

            if (cred != IntPtr.Zero)
            {
                _ = gss_release_cred(out _, ref cred);
            }

            Marshal.FreeHGlobal(input.Value);
            Marshal.FreeHGlobal(elements);
            Marshal.FreeCoTaskMem(keyName);
            Marshal.FreeCoTaskMem(keyValue);
        }
    }

    private static bool IsError(uint major) => (major & 0xffff0000) != 0;

    private static string Describe(uint major, uint minor)
    {
        var parts = new List<string>();
        foreach (var (code, type) in new[] { (major, GssCode), (minor, MechCode) })
        {
            if (code == 0)
            {
                continue;
            }

            uint messageContext = 0;
            do
            {
                var text = default(Buffer);
                if (IsError(gss_display_status(out _, code, type, IntPtr.Zero, ref messageContext, ref text)))
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

    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
    {
        public nuint Length;
        public IntPtr Value;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct KeyValueSet
    {
        public uint Count;
        public IntPtr Elements;
    }

    [LibraryImport(GssLibrary)]
    private static partial uint gss_acquire_cred_from(out uint minor, IntPtr desiredName, uint timeReq, IntPtr desiredMechs, int usage,
        ref KeyValueSet credStore, out IntPtr cred, IntPtr actualMechs, IntPtr timeRec);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_accept_sec_context(out uint minor, ref IntPtr context, IntPtr cred, ref Buffer input, IntPtr bindings,
        out IntPtr sourceName, IntPtr mech, ref Buffer output, IntPtr retFlags, IntPtr timeRec, IntPtr delegated);

    [LibraryImport(GssLibrary)]
    private static partial uint gss_display_name(out uint minor, IntPtr name, ref Buffer output, IntPtr nameType);

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
}
