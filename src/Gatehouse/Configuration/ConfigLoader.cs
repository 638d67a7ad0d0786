using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>The outcome of loading: the effective configuration, or every problem found (never both).</summary>
internal sealed record ConfigLoadResult(GatehouseConfig? Config, IReadOnlyList<ConfigDiagnostic> Diagnostics)
{
    public bool Succeeded => Config is not null;
}

/// <summary>
/// Loads the <c>-config</c> paths the way Vault Agent/Proxy do, then applies the environment and the flags and
/// validates once:
/// 1. each path is a file, or a directory whose *.hcl and *.json files load in name order (not recursively,
///    skipping editor temp files); no file is read past <see cref="HclFile.MaxFileBytes"/>;
/// 2. each file is parsed (JSON or HCL by its content, as Vault's hcl.Parse decides) and bound; parse errors become diagnostics with their snippet;
/// 3. the files merge in order with Vault's rules (<see cref="Merge"/>);
/// 4. environment overrides, then flags, are applied (flag &gt; env &gt; file &gt; default);
/// 5. the validator runs on the result.
/// Every problem from every step is reported; the configuration is returned only when there are none.
/// </summary>
internal static class ConfigLoader
{
    public static ConfigLoadResult Load(
        IReadOnlyList<string> paths, Func<string, string?> environment, ConfigOverrides? flags = null)
    {
        var diagnostics = new List<ConfigDiagnostic>();
        GatehouseConfig? merged = null;
        foreach (var file in ExpandPaths(paths, diagnostics))
        {
            HclObject root;
            try
            {
                root = HclFile.Load(file);
            }
            catch (HclParseException e)
            {
                diagnostics.Add(new ConfigDiagnostic(e.Position, "", e.Detail) { Snippet = e.Snippet });
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                diagnostics.Add(new ConfigDiagnostic(new SourcePosition(file, 0, 0), "", $"error loading configuration: {e.Message}"));
                continue;
            }

            // A file's binding problems are listed in source order, whatever order the binder met them in.
            var fileDiagnostics = new List<ConfigDiagnostic>();
            var bound = ConfigBinder.Bind(root, file, environment, fileDiagnostics);
            diagnostics.AddRange(fileDiagnostics.OrderBy(d => d.Position.Line).ThenBy(d => d.Position.Column));
            merged = merged is null ? bound.Config : Merge(merged, bound);
        }

        // When a file could not be read, the merged configuration lacks its blocks, and cross-block rules would only
        // add misleading errors (e.g. "requires at least 1 listener" when the listener is in the unreadable file).
        var unreadable = diagnostics.Any(d => d.Message.StartsWith("error loading configuration", StringComparison.Ordinal) || d.Snippet is not null);

        if (merged is null)
        {
            if (diagnostics.Count == 0)
                diagnostics.Add(new ConfigDiagnostic(new SourcePosition(string.Join(", ", paths), 0, 0), "", "no configuration files found (*.hcl or *.json)"));
            return new ConfigLoadResult(null, diagnostics);
        }

        var effective = EnvironmentOverrides.Apply(merged, environment, diagnostics);
        effective = EnvironmentOverrides.ApplyFlags(effective, flags ?? ConfigOverrides.None);
        if (!unreadable)
            ConfigValidator.Validate(effective, diagnostics);
        return diagnostics.Count == 0 ? new ConfigLoadResult(effective, []) : new ConfigLoadResult(null, diagnostics);
    }

    /// <summary>Binds and validates one parsed tree, with no files, environment or flags: for tests and benchmarks.</summary>
    public static ConfigLoadResult FromTree(HclObject root, string fileName, Func<string, string?>? environment = null)
    {
        var diagnostics = new List<ConfigDiagnostic>();
        var config = ConfigBinder.Bind(root, fileName, environment ?? (_ => null), diagnostics).Config;
        ConfigValidator.Validate(config, diagnostics);
        return diagnostics.Count == 0 ? new ConfigLoadResult(config, []) : new ConfigLoadResult(null, diagnostics);
    }

    /// <summary>
    /// Vault's merge: a later file's vault, auto_auth, cache, api_proxy and telemetry replace the earlier ones whole;
    /// listeners append; log_* and pid_file take the last non-empty (non-zero) value; exit_after_auth and the
    /// disable_* sets are OR'ed. <see cref="GatehouseConfig.Origins"/> follow their values.
    /// </summary>
    public static GatehouseConfig Merge(GatehouseConfig earlier, BoundConfigFile later)
    {
        var b = later.Config;
        var origins = earlier.Origins.ToBuilder();
        if (later.HasVaultBlock)
        {
            origins.RemoveRange([.. origins.Keys.Where(k => k.StartsWith("vault.", StringComparison.Ordinal))]);
            origins.AddRange(b.Origins.Where(o => o.Key.StartsWith("vault.", StringComparison.Ordinal)));
        }

        if (b.ApiProxy is not null)
        {
            origins.RemoveRange([.. origins.Keys.Where(k => k.StartsWith("api_proxy.", StringComparison.Ordinal))]);
            origins.AddRange(b.Origins.Where(o => o.Key.StartsWith("api_proxy.", StringComparison.Ordinal)));
        }

        // The later file's value, and its place, when it has one that counts; else the earlier value stays.
        T Pick<T>(string key, bool laterCounts, T laterValue, T earlierValue)
        {
            if (!laterCounts)
                return earlierValue;
            if (b.Origins.TryGetValue(key, out var position))
                origins[key] = position;
            return laterValue;
        }

        return new GatehouseConfig
        {
            Vault = later.HasVaultBlock ? b.Vault : earlier.Vault,
            AutoAuth = b.AutoAuth ?? earlier.AutoAuth,
            ApiProxy = b.ApiProxy ?? earlier.ApiProxy,
            Cache = b.Cache ?? earlier.Cache,
            Listeners = [.. earlier.Listeners, .. b.Listeners],
            Telemetry = b.Telemetry ?? earlier.Telemetry,
            PidFile = Pick("pid_file", !string.IsNullOrEmpty(b.PidFile), b.PidFile, earlier.PidFile),
            ExitAfterAuth = earlier.ExitAfterAuth || b.ExitAfterAuth,
            LogLevel = Pick("log_level", !string.IsNullOrEmpty(b.LogLevel), b.LogLevel, earlier.LogLevel),
            LogFormat = Pick("log_format", !string.IsNullOrEmpty(b.LogFormat), b.LogFormat, earlier.LogFormat),
            LogFile = Pick("log_file", !string.IsNullOrEmpty(b.LogFile), b.LogFile, earlier.LogFile),
            LogRotateBytes = Pick("log_rotate_bytes", b.LogRotateBytes is not (null or 0), b.LogRotateBytes, earlier.LogRotateBytes),
            LogRotateDuration = Pick("log_rotate_duration", b.LogRotateDuration is { } d && d != TimeSpan.Zero, b.LogRotateDuration, earlier.LogRotateDuration),
            LogRotateMaxFiles = Pick("log_rotate_max_files", b.LogRotateMaxFiles is not (null or 0), b.LogRotateMaxFiles, earlier.LogRotateMaxFiles),
            DisableIdleConnections = earlier.DisableIdleConnections | b.DisableIdleConnections,
            DisableKeepAlives = earlier.DisableKeepAlives | b.DisableKeepAlives,
            SourceFiles = [.. earlier.SourceFiles, .. b.SourceFiles],
            Origins = origins.ToImmutable(),
        };
    }

    /// <summary>Files in load order: each path as given; a directory's *.hcl/*.json in ordinal name order.</summary>
    public static IReadOnlyList<string> ExpandPaths(IReadOnlyList<string> paths, ICollection<ConfigDiagnostic> diagnostics)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                try
                {
                    files.AddRange(Directory.EnumerateFiles(path)
                        .Where(f => IsConfigFile(System.IO.Path.GetFileName(f)))
                        .OrderBy(f => System.IO.Path.GetFileName(f), StringComparer.Ordinal));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    diagnostics.Add(new ConfigDiagnostic(new SourcePosition(path, 0, 0), "", $"error loading configuration: {e.Message}"));
                }
            }
            else if (File.Exists(path))
                files.Add(path);
            else
            {
                diagnostics.Add(new ConfigDiagnostic(new SourcePosition(path, 0, 0), "",
                    "error loading configuration: no such file or directory; check the -config path"));
            }
        }

        return files;
    }

    /// <summary>*.hcl and *.json, except editor temp files (<c>*~</c>, <c>.#*</c>, <c>#*#</c>).</summary>
    public static bool IsConfigFile(string name) =>
        !name.EndsWith('~') && !name.StartsWith(".#", StringComparison.Ordinal)
        && !(name.StartsWith('#') && name.EndsWith('#'))
        && (name.EndsWith(".hcl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
}
