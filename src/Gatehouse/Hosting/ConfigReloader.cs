using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;
using Gatehouse.Hosting.Logging;
using Gatehouse.Listeners;
using Gatehouse.Shared;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// SIGHUP: re-read and re-validate every config file (same paths, environment and flags as at startup), then apply
/// log_level and the listeners' TLS certificates. Nothing is applied unless everything is valid; every problem is
/// logged and the old configuration stays. Every other changed setting is named in a warning: it needs a restart.
/// That includes <c>cache.shared</c> (added, removed, or any key changed, and its key material changed in place in the
/// same <c>key_file</c>): the running replica keeps its connection and keys, so it never starts sealing with a key the
/// rest of the fleet does not hold halfway through its life. Reloads never overlap.
/// </summary>
internal sealed partial class ConfigReloader : IDisposable
{
    private readonly Func<ConfigLoadResult>? _load;
    private readonly ListenerBindings _bindings;
    private readonly LogLevelSwitch? _levelSwitch;
    private readonly string _mode;
    private readonly ILogger<ConfigReloader> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SharedKeys? _sharedKeys;

    /// <param name="levelSwitch">The switch a reload sets; null when a test supplied its own logging.</param>
    /// <param name="mode"><c>proxy</c> or <c>agent</c>.</param>
    /// <param name="sharedKeys">The shared store's keys in use (with <c>cache.shared</c>), to tell key material changed in place.</param>
    public ConfigReloader(
        GatehouseConfig config,
        Func<ConfigLoadResult>? load,
        ListenerBindings bindings,
        LogLevelSwitch? levelSwitch,
        string mode,
        ILogger<ConfigReloader> logger,
        SharedKeys? sharedKeys = null)
    {
        _sharedKeys = sharedKeys;
        Config = config;
        _load = load;
        _bindings = bindings;
        _levelSwitch = levelSwitch;
        _mode = mode;
        _logger = logger;
    }

    /// <summary>The configuration in effect: the startup one, or the last one a reload accepted.</summary>
    public GatehouseConfig Config { get; private set; }

    /// <summary>Returns true when the new configuration was applied.</summary>
    public async Task<bool> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Reload();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private bool Reload()
    {
        // Step map: 1. load and validate; 2. read every TLS certificate; 3. only then apply; 4. name what was not applied.
        if (_load is null)
        {
            Log.NothingToReload(_logger);
            return false;
        }

        Log.Reloading(_logger);
        var result = _load();
        if (!result.Succeeded)
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                Log.ReloadProblem(_logger, diagnostic.ToDisplayString());
            }

            Log.ReloadRejected(_logger, result.Diagnostics.Count);
            return false;
        }

        var config = result.Config!;
        var problems = new List<string>();
        var level = LoggingSettings.From(config, _mode).Level;

        var certificates = new List<(ListenerCertificate Holder, X509Certificate2 Certificate)>();
        if (config.Listeners.Count != _bindings.Listeners.Count)
        {
            Log.ListenersNeedRestart(_logger, _bindings.Listeners.Count, config.Listeners.Count);
        }

        foreach (var (index, holder) in _bindings.Certificates)
        {
            if (index >= config.Listeners.Count || config.Listeners[index].TlsDisable)
            {
                continue;
            }

            try
            {
                certificates.Add((holder, ListenerTls.LoadCertificate(config.Listeners[index], ListenerFeature.Describe(index, config.Listeners[index]))));
            }
            catch (ListenerStartupException exception)
            {
                problems.Add(exception.Message);
            }
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                Log.ReloadProblem(_logger, problem);
            }

            Log.ReloadRejected(_logger, problems.Count);
            foreach (var (_, certificate) in certificates)
            {
                certificate.Dispose();
            }

            return false;
        }

        if (_levelSwitch is not null)
        {
            _levelSwitch.Minimum = level;
        }

        foreach (var (holder, certificate) in certificates)
        {
            holder.Swap(certificate);
        }

        var unapplied = UnappliedSettings.Between(Config, config).ToList();
        if (SharedKeyChangedInPlace(config, unapplied) is { } key)
        {
            unapplied.Add(key);
        }

        Config = config;
        Log.Reloaded(_logger, VaultLogLevel.Name(level), certificates.Count);
        if (unapplied.Count > 0)
        {
            Log.SettingsNotApplied(_logger, string.Join(", ", unapplied));
        }

        return true;
    }

    /// <summary>
    /// The shared store's key read from the same <c>key_file</c> (or variable) but no longer the key in use: the records
    /// are equal, so only the key ids tell. Named like a setting (never the material); null when unchanged or not shared.
    /// </summary>
    private string? SharedKeyChangedInPlace(GatehouseConfig config, List<string> unapplied)
    {
        if (_sharedKeys is null || config.Cache?.Shared is not { } shared
            || unapplied.Any(k => k is "cache" or "cache.shared" or "cache.shared.key_file" or "cache.shared.key_env_var"))
        {
            return null;
        }

        try
        {
            if (SharedKeys.Load(shared, Environment.GetEnvironmentVariable).KeyIdText == _sharedKeys.KeyIdText)
            {
                return null;
            }
        }
        catch (SharedStoreException)
        {
            // Unreadable now (the validator read it a moment ago): nothing to compare; the key in use stays either way.
            return null;
        }

        return string.IsNullOrEmpty(shared.KeyFile) ? "cache.shared.key_env_var (the key material)" : "cache.shared.key_file (the key material in it)";
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ConfigReloaderReloading, LogLevel.Information, "SIGHUP received: reloading the configuration")]
        public static partial void Reloading(ILogger logger);

        [LoggerMessage(LogEvents.ConfigReloaderReloadProblem, LogLevel.Error, "error reloading configuration: {Problem}")]
        public static partial void ReloadProblem(ILogger logger, string problem);

        [LoggerMessage(LogEvents.ConfigReloaderReloadRejected, LogLevel.Error, "the new configuration has {Count} problem(s); the previous configuration stays in effect")]
        public static partial void ReloadRejected(ILogger logger, int count);

        [LoggerMessage(LogEvents.ConfigReloaderReloaded, LogLevel.Information, "configuration reloaded: log level {Level}, {Certificates} listener certificate(s) reloaded")]
        public static partial void Reloaded(ILogger logger, string level, int certificates);

        [LoggerMessage(LogEvents.ConfigReloaderListenersNeedRestart, LogLevel.Warning, "the reloaded configuration has {New} listener(s) instead of {Old}; listener changes other than TLS certificates need a restart")]
        public static partial void ListenersNeedRestart(ILogger logger, int old, int @new);

        [LoggerMessage(LogEvents.ConfigReloaderNothingToReload, LogLevel.Warning, "SIGHUP received, but this process has no configuration files to reload from")]
        public static partial void NothingToReload(ILogger logger);

        [LoggerMessage(LogEvents.ConfigReloaderSettingsNotApplied, LogLevel.Warning, "a reload applies only log_level and listener TLS certificates; these changed settings keep their old values until a restart: {Settings}")]
        public static partial void SettingsNotApplied(ILogger logger, string settings);
    }
}
