using System.Text;

namespace Gatehouse.AutoAuth;

/// <summary>
/// Reads a credential file (role ID, secret ID, JWT, token) the way every method needs: the whole file, trimmed
/// (ldap's password file is read verbatim, as Vault sends it). Failures come back as a message that names the file and what to do, never as an exception and never with the
/// content.
/// </summary>
internal static class CredentialFile
{
    /// <summary>Credential files are small; a larger one is not what the user meant to point at.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <param name="path">The file.</param>
    /// <param name="verbatim">
    /// Keep the content as it is (no trimming, line breaks and spaces are part of the value) and call only a file of
    /// no bytes empty: ldap's password, which Vault sends exactly as the file holds it.
    /// </param>
    public static CredentialRead Read(string path, bool verbatim = false)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                return CredentialRead.Problem($"{path} is larger than {MaxBytes} bytes; point the setting at the credential file");
            }

            var bytes = File.ReadAllBytes(path);
            string text;
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return CredentialRead.Problem($"{path} is not UTF-8 text; it does not hold a credential");
            }

            if (verbatim)
            {
                return text.Length == 0 ? CredentialRead.Empty($"{path} is empty") : CredentialRead.Success(text);
            }

            text = text.Trim();
            if (text.Length == 0)
            {
                return CredentialRead.Empty($"{path} is empty");
            }

            if (text.Any(char.IsControl))
            {
                return CredentialRead.Problem($"{path} holds control characters (more than one line?); it must hold one credential");
            }

            return CredentialRead.Success(text);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return CredentialRead.Missing($"{path} does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            return CredentialRead.Problem($"{path} cannot be read: permission denied; let the gatehouse user read it");
        }
        catch (IOException e)
        {
            return CredentialRead.Problem($"{path} cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Deletes a credential file after reading it, as Vault Agent's file-reading methods do: the link itself, or with
    /// <paramref name="followSymlinks"/> the link's final target. Returns the reason when it could not.
    /// </summary>
    public static string? Remove(string path, bool followSymlinks)
    {
        try
        {
            var target = path;
            if (followSymlinks && new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } final)
            {
                target = final.FullName;
            }

            File.Delete(target);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// The read-period ticker of a method that reads its credential file between logins (jwt, ldap): calls
    /// <paramref name="read"/> every <paramref name="period"/> on <paramref name="time"/>, and <paramref name="waiting"/>
    /// each time the timer is armed (the tests' hook for a fake clock).
    /// </summary>
    public static async Task RunReadTickerAsync(TimeSpan period, TimeProvider time, Action read, Action? waiting, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period, time);
        waiting?.Invoke();
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            read();
            waiting?.Invoke();
        }
    }
}

internal enum CredentialReadStatus
{
    Success,
    Missing,
    Empty,
    Problem,
}

/// <summary>The outcome of <see cref="CredentialFile.Read"/>. <see cref="ToString"/> hides the value.</summary>
internal readonly record struct CredentialRead(CredentialReadStatus Status, string? Value, string? Message)
{
    public bool IsSuccess => Status == CredentialReadStatus.Success;

    public static CredentialRead Success(string value) => new(CredentialReadStatus.Success, value, null);

    public static CredentialRead Missing(string message) => new(CredentialReadStatus.Missing, null, message);

    public static CredentialRead Empty(string message) => new(CredentialReadStatus.Empty, null, message);

    public static CredentialRead Problem(string message) => new(CredentialReadStatus.Problem, null, message);

    public override string ToString() => $"CredentialRead {{ Status = {Status}, Message = {Message} }}";
}
