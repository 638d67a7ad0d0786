using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// A throwaway MIT KDC (Debian's krb5-kdc and krb5-admin-server, installed by scripts/install-test-deps.sh) on a
/// random loopback port, with its own kdc.conf, krb5.conf, database and stash in a temp directory. Principals are
/// made with random keys and exported with <c>ktadd -k</c>. The KDC logs to its stderr, which is read until it says
/// it is serving: no polling, no sleeps. Disposing stops the one process it started and deletes the directory.
/// </summary>
internal sealed class MitKdc : IAsyncDisposable
{
    public const string Realm = "GATEHOUSE.TEST";
    public const string ServiceHost = "vault.gatehouse.test";
    public const string Service = "HTTP/" + ServiceHost;
    private const string InstallHint = "run scripts/install-test-deps.sh (Debian's krb5-kdc and krb5-admin-server)";

    private readonly Process _kdc;
    private readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _kdcOutput = [];

    private MitKdc(string dir, int port)
    {
        Dir = dir;
        Port = port;
        _kdc = new Process { StartInfo = Start("krb5kdc", "-n", "-r", Realm) };
    }

    public string Dir { get; }

    public int Port { get; }

    /// <summary>The client krb5.conf: this realm, its KDC on loopback (TCP first: <c>udp_preference_limit = 1</c>), no DNS.</summary>
    public string Krb5Conf => Path.Combine(Dir, "krb5.conf");

    private string KdcConf => Path.Combine(Dir, "kdc.conf");

    public string KdcOutput
    {
        get
        {
            lock (_kdcOutput)
            {
                return string.Join('\n', _kdcOutput);
            }
        }
    }

    public static async Task<MitKdc> StartAsync()
    {
        foreach (var tool in new[] { "/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local" })
        {
            if (!File.Exists(tool))
            {
                Assert.Fail($"{tool} is not installed: {InstallHint}");
            }
        }

        var dir = Directory.CreateTempSubdirectory("gatehouse-kdc-").FullName;
        var kdc = new MitKdc(dir, FreePort());
        await kdc.InitializeAsync();
        return kdc;
    }

    private async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(KdcConf, $$"""
            [kdcdefaults]
             kdc_listen = 127.0.0.1:{{Port}}
             kdc_tcp_listen = 127.0.0.1:{{Port}}
            [realms]
             {{Realm}} = {
              database_name = {{Dir}}/principal
              key_stash_file = {{Dir}}/stash
              acl_file = {{Dir}}/kadm5.acl
              supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
             }
            [logging]
             kdc = STDERR
            """);
        await File.WriteAllTextAsync(Krb5Conf, KrbConf(Port));
        await RunAsync("kdb5_util", "create", "-s", "-r", Realm, "-P", "gatehouse-test-master-" + Guid.NewGuid().ToString("N"));

        _kdc.ErrorDataReceived += (_, e) => OnKdcLine(e.Data);
        _kdc.OutputDataReceived += (_, e) => OnKdcLine(e.Data);
        _kdc.Start();
        _kdc.BeginErrorReadLine();
        _kdc.BeginOutputReadLine();
        var exited = _kdc.WaitForExitAsync();
        if (await Task.WhenAny(_serving.Task, exited).WaitAsync(TimeSpan.FromSeconds(30)) == exited)
        {
            Assert.Fail($"krb5kdc exited before serving: {KdcOutput}");
        }
    }

    /// <summary>A krb5.conf for this realm whose KDC is at <paramref name="port"/> (another port: an unreachable KDC).</summary>
    public static string KrbConf(int port) => $$"""
        [libdefaults]
         default_realm = {{Realm}}
         dns_lookup_kdc = false
         dns_lookup_realm = false
         rdns = false
         dns_canonicalize_hostname = false
         max_retries = 1
         udp_preference_limit = 1
        [realms]
         {{Realm}} = {
          kdc = 127.0.0.1:{{port}}
         }
        [domain_realm]
         .gatehouse.test = {{Realm}}
        """;

    /// <summary>Adds <paramref name="principal"/> with random keys.</summary>
    public Task AddPrincipalAsync(string principal) => KadminAsync($"addprinc -randkey {principal}");

    /// <summary>New random keys for <paramref name="principal"/> (a keytab exported before no longer works).</summary>
    public Task RandomizeKeysAsync(string principal) => KadminAsync($"cpw -randkey {principal}");

    public Task DeletePrincipalAsync(string principal) => KadminAsync($"delprinc -force {principal}");

    /// <summary>Exports <paramref name="principal"/>'s keys to <paramref name="keytab"/> (this also gives it new keys).</summary>
    public Task ExportKeytabAsync(string principal, string keytab) => KadminAsync($"ktadd -k {keytab} {principal}");

    /// <summary>A free loopback port, for the KDC and for a krb5.conf that points at nothing.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task KadminAsync(string query) => RunAsync("kadmin.local", "-r", Realm, "-q", query);

    private void OnKdcLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_kdcOutput)
        {
            _kdcOutput.Add(line);
        }

        if (line.Contains("commencing operation", StringComparison.Ordinal))
        {
            _serving.TrySetResult();
        }
    }

    private ProcessStartInfo Start(string tool, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/sbin/" + tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KRB5_CONFIG"] = Krb5Conf;
        start.Environment["KRB5_KDC_PROFILE"] = KdcConf;
        return start;
    }

    private async Task RunAsync(string tool, params string[] args)
    {
        using var process = Process.Start(Start(tool, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var output = await stdout + await stderr;
        // kadmin.local exits 0 even when its query fails; its messages then name the failure.
        if (process.ExitCode != 0 || output.Contains("while ", StringComparison.Ordinal))
        {
            Assert.Fail($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_kdc.HasExited)
            {
                _kdc.Kill();
                await _kdc.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _kdc.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
