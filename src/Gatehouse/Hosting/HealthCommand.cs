using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.GoCompat;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>gatehouse health</c>: asks a running Gatehouse's health endpoint (<c>/proxy/v1/health</c>) over TCP (http or
/// https) or a unix socket, prints one line, and exits 0 when it answers 200 and 1 otherwise: when it answers anything else (503: not ready)
/// and when it cannot ask (usage, connection, TLS, timeout). One failure code, because Docker's <c>HEALTHCHECK</c>
/// reserves 2 and Kubernetes' <c>exec</c> probes only tell zero from non-zero; the line on stderr tells them apart.
/// Needs no shell, so it works as either in a distroless image.
/// </summary>
internal static class HealthCommand
{
    /// <summary>The exit code when Gatehouse answered and is not healthy: the same as when it cannot be asked.</summary>
    public const int Unhealthy = ExitCodes.Error;

    public const string DefaultAddress = "https://127.0.0.1:8200";

    public const string Help = """
        Usage: gatehouse health [options]

        Asks a running Gatehouse whether it is ready (or live) and prints one line. Exits 0 when it answers 200,
        1 when it answers 503 (or anything else) or cannot be asked. Needs no shell: usable as an exec probe.

        Options:
            -address=ADDR           Where Gatehouse listens: http://HOST:PORT, https://HOST:PORT or unix:///PATH
                                    (plain HTTP over the socket). Env VAULT_AGENT_ADDR. Default: https://127.0.0.1:8200.
            -probe=ready|live       ready (default): a valid auto-auth token and listeners up. live: the process serves.
            -vault=optional|required
                                    required: also not ready once Vault has been unreachable for longer than -vault-grace.
            -vault-grace=DURATION   With -vault=required: how long Vault may be unreachable. Default: 60s.
            -timeout=DURATION       Give up after this long. Default: 5s.
            -ca-cert=PATH           PEM CA certificate to verify an https listener's certificate.
            -client-cert=PATH, -client-key=PATH
                                    PEM client certificate and key, for listeners that require one.
            -tls-server-name=NAME   The name to verify the listener's certificate against (and send as SNI).
            -tls-skip-verify        Do not verify the listener's certificate.
        """;

    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal) { "tls-skip-verify" };

    private static readonly HashSet<string> ValueFlags = new(StringComparer.Ordinal)
    {
        "address", "probe", "vault", "vault-grace", "timeout", "ca-cert", "client-cert", "client-key", "tls-server-name",
    };

    /// <summary>The parsed flags.</summary>
    internal sealed record Arguments(
        string Address, string Probe, string Vault, string? VaultGrace, TimeSpan Timeout,
        string? CaCert, string? ClientCert, string? ClientKey, string? TlsServerName, bool TlsSkipVerify);

    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        if (Parse(args, environment, out var error) is not { } parsed)
            return GatehouseCommand.UsageError(error, Help, stdout, stderr);

        if (!TryTarget(parsed.Address, out var uri, out var socketPath, out error))
        {
            await stderr.WriteLineAsync($"Error checking health: {error}").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        string query = (parsed.Probe == "live" ? "probe=live&" : "")
            + (parsed.Vault == "required" ? "vault=required&" : "")
            + (parsed.VaultGrace is { } grace ? "vault_grace=" + Uri.EscapeDataString(grace) + "&" : "");
        var target = new UriBuilder(uri) { Path = "/proxy/v1/health", Query = query.TrimEnd('&') }.Uri;

        try
        {
            using var handler = CreateHandler(parsed, socketPath);
            using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(parsed.Timeout);
            using var response = await client.GetAsync(target, timeout.Token).ConfigureAwait(false);
            string body = OneLine(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
            int status = (int)response.StatusCode;
            if (status == 200)
            {
                await stdout.WriteLineAsync($"healthy (200): {body}").ConfigureAwait(false);
                return ExitCodes.Success;
            }

            await stderr.WriteLineAsync($"unhealthy ({status}): {body}").ConfigureAwait(false);
            return Unhealthy;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"Error checking health at {parsed.Address}: no answer within {GoFormat.FormatDuration(parsed.Timeout)}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or SocketException
                                              or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"Error checking health at {parsed.Address}: {Innermost(exception)}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    /// <summary>Go-flag-style parsing, as for the other commands. Null and a message on a usage error.</summary>
    internal static Arguments? Parse(IReadOnlyList<string> args, Func<string, string?> environment, out string error)
    {
        string address = environment("BAO_AGENT_ADDR") is { Length: > 0 } bao ? bao
            : environment("VAULT_AGENT_ADDR") is { Length: > 0 } vault ? vault
            : DefaultAddress;
        var result = new Arguments(address, "ready", "optional", null, TimeSpan.FromSeconds(5), null, null, null, null, false);
        error = GoFlags.Parse(
            args, BoolFlags, ValueFlags,
            (_, on) =>
            {
                result = result with { TlsSkipVerify = on };
                return null;
            },
            (name, value) =>
            {
                switch (name)
                {
                    case "address": result = result with { Address = value }; return null;
                    case "probe" when value is "ready" or "live": result = result with { Probe = value }; return null;
                    case "vault" when value is "optional" or "required": result = result with { Vault = value }; return null;
                    case "vault-grace" when GoFormat.TryParseDurationSecond(value, out var grace) && grace >= TimeSpan.Zero:
                        result = result with { VaultGrace = value };
                        return null;
                    case "timeout" when GoFormat.TryParseDurationSecond(value, out var timeout) && timeout > TimeSpan.Zero:
                        result = result with { Timeout = timeout };
                        return null;
                    case "ca-cert": result = result with { CaCert = value }; return null;
                    case "client-cert": result = result with { ClientCert = value }; return null;
                    case "client-key": result = result with { ClientKey = value }; return null;
                    case "tls-server-name": result = result with { TlsServerName = value }; return null;
                    default: return $"invalid value \"{value}\" for flag -{name}";
                }
            },
            arg => $"unexpected argument \"{arg}\"") ?? "";
        if (error.Length > 0)
        {
            return null;
        }

        if ((result.ClientCert is null) != (result.ClientKey is null))
        {
            error = "both -client-cert and -client-key must be provided";
            return null;
        }

        return result;
    }

    /// <summary>http(s)://host:port, or unix:///path (then the request goes to http://localhost over the socket).</summary>
    private static bool TryTarget(string address, out Uri uri, out string? socketPath, out string error)
    {
        error = "";
        socketPath = null;
        uri = null!;
        if (address.StartsWith("unix://", StringComparison.Ordinal))
        {
            socketPath = address["unix://".Length..];
            if (socketPath.Length == 0)
            {
                error = $"invalid address \"{address}\": missing socket path; use unix:///path/to/socket";
                return false;
            }

            uri = new Uri("http://localhost/");
            return true;
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.Host.Length == 0)
        {
            error = $"invalid address \"{address}\": use http://HOST:PORT, https://HOST:PORT or unix:///PATH";
            return false;
        }

        uri = parsed;
        return true;
    }

    private static SocketsHttpHandler CreateHandler(Arguments parsed, string? socketPath)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = parsed.Timeout };
        if (socketPath is not null)
        {
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        if (parsed.TlsServerName is { } name)
        {
            handler.SslOptions.TargetHost = name;
        }

        if (parsed.TlsSkipVerify)
        {
            // The user asked for it (-tls-skip-verify), as `vault` commands allow.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (parsed.CaCert is { } caFile)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.ImportFromPemFile(caFile);
            if (policy.CustomTrustStore.Count == 0)
            {
                throw new IOException($"{caFile}: no PEM certificate found");
            }

            handler.SslOptions.CertificateChainPolicy = policy;
        }

        if (parsed.ClientCert is { } certFile)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, parsed.ClientKey)];
        }

        return handler;
    }

    /// <summary>The body on one line, at most 512 characters: a probe's output is one line.</summary>
    private static string OneLine(string body)
    {
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length <= 512 ? line : line[..512] + "…";
    }

    private static string Innermost(Exception exception)
    {
        var messages = new StringBuilder(exception.Message);
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            messages.Append(": ").Append(inner.Message);
        }

        return messages.ToString().ReplaceLineEndings(" ");
    }
}
