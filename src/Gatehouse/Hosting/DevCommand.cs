using System.Net;
using System.Runtime.InteropServices;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Sinks;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Hosting;

/// <summary>What a running <c>gatehouse dev</c> serves, for the lines it prints and for tests.</summary>
internal sealed record DevSession(
    Uri VaultAddress, Uri ProxyAddress, string RootToken, string SinkPath, string ConfigPath, string? ProxySocketPath = null);

/// <summary>
/// <c>gatehouse dev</c>: DevVault (an in-memory Vault) plus the real proxy in front of it, configured the way a user
/// would configure Gatehouse, so a newcomer sees auto-auth, the sink, the API proxy and the lease cache work in one
/// command. Development only: both listeners are loopback-only, and the root token is printed.
/// </summary>
internal static class DevCommand
{
    public const string Help = """
        Usage: gatehouse dev [options]

        Starts DevVault, an in-memory Vault-compatible server, with approle enabled and a sample secret, then starts
        the Gatehouse proxy in front of it with approle auto-auth, a file sink, use_auto_auth_token = true and a lease
        cache. For development only: nothing is stored, and the root token is printed. Ctrl-C stops both.

        Options:
          -dev-root-token-id=ID          DevVault's root token (default "root").
          -dev-listen-address=ADDR       DevVault's address (default 127.0.0.1:8200; loopback only).
          -proxy-address=ADDR            The proxy listener's address (default 127.0.0.1:8100; loopback only).
          -proxy-unix-socket=PATH        Also serve the proxy on a unix socket at PATH (absolute; default none).
          -log-level=LEVEL               trace, debug, info, warn or error (default info).
        """;

    /// <summary>How long the first auto-auth login may take before <c>dev</c> gives up.</summary>
    private static readonly TimeSpan FirstLoginTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Action<DevSession>? onReady,
        CancellationToken cancellationToken)
    {
        if (!TryParse(args, out var options, out var error))
            return GatehouseCommand.UsageError(error, Help, stdout, stderr);

        var workDirectory = Directory.CreateTempSubdirectory("gatehouse-dev-").FullName;
        try
        {
            return await RunInAsync(options, workDirectory, stdout, stderr, onReady, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The role_id, secret_id and token files are credentials, even for a throwaway server.
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    private static async Task<int> RunInAsync(
        DevOptions options, string workDirectory, TextWriter stdout, TextWriter stderr, Action<DevSession>? onReady,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

        // 1. DevVault, set up through its HTTP API the way an operator would set up a real Vault.
        DevVaultServer vault;
        try
        {
            vault = await DevVaultServer.StartAsync(
                new DevVaultOptions { ListenAddress = options.VaultAddress, RootTokenId = options.RootToken }, stop.Token).ConfigureAwait(false);
        }
        catch (IOException exception)
        {
            await stderr.WriteLineAsync($"Error starting DevVault on {options.VaultAddress}: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        await using (vault.ConfigureAwait(false))
        {
            var scenario = await DevScenario.SetUpAsync(vault, workDirectory, stop.Token).ConfigureAwait(false);

            // 2. A real configuration file, loaded like any other (the environment is not consulted, so a VAULT_ADDR
            //    in the user's shell cannot point the dev proxy at a real Vault).
            var sinkPath = Path.Combine(workDirectory, "token");
            var configPath = Path.Combine(workDirectory, "gatehouse-dev.hcl");
            await File.WriteAllTextAsync(configPath, RenderConfig(vault.Address, scenario, sinkPath, options), stop.Token).ConfigureAwait(false);
            var loaded = ConfigLoader.Load([configPath], static _ => null);
            if (!loaded.Succeeded)
            {
                ConfigReport.WriteProblems(loaded, stderr);
                return ExitCodes.Error;
            }

            // 3. The proxy, then the first login, so that every printed line works the moment it is printed.
            GatehouseHost host;
            try
            {
                host = await GatehouseHost.StartAsync(loaded.Config!, cancellationToken: stop.Token).ConfigureAwait(false);
            }
            catch (IOException exception)
            {
                await stderr.WriteLineAsync($"Error starting listener: {exception.Message}").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            await using (host.ConfigureAwait(false))
            {
                try
                {
                    // Ready means the printed lines work: logged in and the token file (the sink) written.
                    var sinks = host.Services.GetRequiredService<SinkServer>();
                    await sinks.FirstTokenWritten.WaitAsync(FirstLoginTimeout, stop.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await stderr.WriteLineAsync("gatehouse dev: auto-auth did not log in to DevVault and write the token file within 30 seconds; see the log above.").ConfigureAwait(false);
                    return ExitCodes.Error;
                }

                var session = new DevSession(
                    vault.Address, host.Addresses[0].Address, vault.RootToken, sinkPath, configPath,
                    host.Addresses.FirstOrDefault(a => a.SocketPath is not null)?.SocketPath);
                await stdout.WriteAsync(RenderBanner(session)).ConfigureAwait(false);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                onReady?.Invoke(session);

                // 4. Serve until Ctrl-C, SIGTERM, the caller's token, or the host stopping by itself.
                var cancelled = Task.Delay(Timeout.Infinite, stop.Token);
                await Task.WhenAny(cancelled, host.Stopping).ConfigureAwait(false);
                await stdout.WriteLineAsync("==> gatehouse dev: stopping the proxy and DevVault").ConfigureAwait(false);
            }
        }

        return ExitCodes.Success;

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    /// <summary>The configuration the dev proxy runs with; written to disk so the user can read and copy it.</summary>
    internal static string RenderConfig(Uri vaultAddress, DevScenarioResult scenario, string sinkPath, DevOptions options) => $$"""
        # Written by `gatehouse dev`. This is an ordinary Gatehouse (Vault Proxy) configuration: copy it, point
        # vault.address at your Vault, and run it with `gatehouse proxy -config=<file>`.
        log_level = "{{options.LogLevel}}"

        vault {
          address = "{{vaultAddress.ToString().TrimEnd('/')}}"
        }

        auto_auth {
          method "approle" {
            config = {
              role_id_file_path                   = "{{scenario.RoleIdPath}}"
              secret_id_file_path                 = "{{scenario.SecretIdPath}}"
              remove_secret_id_file_after_reading = false
            }
          }

          sink "file" {
            config = {
              path = "{{sinkPath}}"
              mode = 0600
            }
          }
        }

        api_proxy {
          use_auto_auth_token = true
        }

        cache {
          cache_static_secrets = true
        }

        listener "tcp" {
          address     = "{{options.ProxyAddress}}"
          tls_disable = true
        }
        {{UnixListener(options)}}
        telemetry {
          disable_hostname = true
        }
        """;

    /// <summary>The unix listener block for <c>-proxy-unix-socket</c>, or nothing.</summary>
    private static string UnixListener(DevOptions options) => options.ProxyUnixSocket is not { } socket ? "" : $$"""

        listener "unix" {
          address     = "{{socket}}"
          tls_disable = true
        }

        """;

    internal static string RenderBanner(DevSession session)
    {
        var proxy = session.ProxyAddress.ToString().TrimEnd('/');
        var vault = session.VaultAddress.ToString().TrimEnd('/');
        var unixLine = session.ProxySocketPath is { } socket ? $"\n    Gatehouse proxy (unix):      {socket}" : "";
        var unixCurl = session.ProxySocketPath is { } path ? $"\n    curl --unix-socket {path} http://localhost/v1/secret/data/hello" : "";
        return $"""

            ==> gatehouse dev: DEVELOPMENT ONLY. DevVault keeps everything in memory and its root token is printed below.
                Never point real applications or real secrets at it.

                DevVault (in-memory Vault):  {vault}    root token: {session.RootToken}
                Gatehouse proxy:             {proxy}    (approle auto-auth, use_auto_auth_token = true, lease and static-secret cache on){unixLine}
                Auto-auth token sink:        {session.SinkPath}
                Configuration in use:        {session.ConfigPath}

            Try these (no token needed: the proxy adds its own):

                curl {proxy}/v1/secret/data/hello{unixCurl}
                curl -s -D - -o /dev/null {proxy}/v1/secret/data/hello            # again: X-Cache: HIT, a static secret from the cache
                curl -s -D - -o /dev/null -X POST {proxy}/v1/auth/token/create    # twice: the second says X-Cache: HIT
                curl {proxy}/v1/auth/token/lookup-self                            # the auto-auth token's id and accessor are redacted
                cat {session.SinkPath}
                curl {proxy}/agent/v1/metrics
                curl '{proxy}/agent/v1/metrics?format=prometheus'
                curl {proxy}/agent/v1/health                                      # readiness: authenticated, token TTL, Vault reachable
                curl -H 'X-Vault-Token: {session.RootToken}' {vault}/v1/sys/health      # DevVault directly

            Press Ctrl-C to stop.

            """;
    }

    internal sealed record DevOptions(string RootToken, string VaultAddress, string ProxyAddress, string LogLevel, string? ProxyUnixSocket = null);

    internal static bool TryParse(IReadOnlyList<string> args, out DevOptions options, out string error)
    {
        options = new DevOptions("root", "127.0.0.1:8200", "127.0.0.1:8100", "info");
        error = "";
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "-help" or "--help")
            {
                error = ConfigArguments.HelpRequested;
                return false;
            }

            var name = arg.TrimStart('-');
            string? value = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }

            if (!arg.StartsWith('-') || value is null)
            {
                error = $"unexpected argument \"{arg}\"";
                return false;
            }

            switch (name)
            {
                case "dev-root-token-id" when value.Length > 0:
                    options = options with { RootToken = value };
                    break;
                case "dev-listen-address":
                    options = options with { VaultAddress = value };
                    break;
                case "proxy-address":
                    options = options with { ProxyAddress = value };
                    break;
                case "proxy-unix-socket" when Path.IsPathRooted(value):
                    options = options with { ProxyUnixSocket = value };
                    break;
                case "proxy-unix-socket":
                    error = $"-proxy-unix-socket \"{value}\": give an absolute path, e.g. /tmp/gatehouse-dev.sock";
                    return false;
                case "log-level":
                    options = options with { LogLevel = value };
                    break;
                default:
                    error = $"flag provided but not defined: -{name}";
                    return false;
            }
        }

        foreach (var (flag, address) in new[] { ("-dev-listen-address", options.VaultAddress), ("-proxy-address", options.ProxyAddress) })
        {
            if (!IsLoopback(address))
            {
                error = $"{flag} \"{address}\": gatehouse dev binds loopback addresses only (127.0.0.1:PORT or [::1]:PORT)";
                return false;
            }
        }

        return true;
    }

    private static bool IsLoopback(string address) =>
        IPEndPoint.TryParse(address, out var endPoint) && IPAddress.IsLoopback(endPoint.Address);
}
