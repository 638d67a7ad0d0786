using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// Binds one parsed file (HCL or its JSON form) to a <see cref="GatehouseConfig"/>, with Vault's types and shapes.
/// HCL1 lets a labelled block be written several ways, and all of them mean the same:
/// <c>listener "tcp" {}</c>, <c>listener { type = "tcp" }</c>, <c>listener = [{ ... }]</c>, JSON
/// <c>{"listener": {"tcp": {...}}}</c>, <c>{"listener": [{"tcp": {...}}]}</c> and <c>{"listener": [{"type": "tcp"}]}</c>;
/// the same holds for <c>method</c>, <c>sink</c> and <c>persist</c>. Problems are collected, never thrown: binding
/// goes on past each one so that a user sees every problem in one run. Rules that span blocks are the
/// <see cref="ConfigValidator"/>'s, run once after merging.
/// </summary>
internal sealed partial class ConfigBinder
{
    private const string TemplatingRefused = "not supported by Gatehouse (Vault Agent templating); " +
        "Gatehouse is a Vault Proxy replacement: render templates with Vault Agent or consul-template";

    /// <summary>The top-level keys whose place <see cref="GatehouseConfig.Origins"/> keeps (they merge and are overridden).</summary>
    private static readonly string[] TopLevelOriginKeys =
        ["pid_file", "log_level", "log_format", "log_file", "log_rotate_bytes", "log_rotate_duration", "log_rotate_max_files"];

    private readonly Func<string, string?> _environment;
    private readonly ICollection<ConfigDiagnostic> _diagnostics;
    private readonly ICollection<KnownKey>? _knownKeys;

    private ConfigBinder(Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics, ICollection<KnownKey>? knownKeys = null)
    {
        _environment = environment;
        _diagnostics = diagnostics;
        _knownKeys = knownKeys;
    }

    /// <summary>
    /// Binds one file. <paramref name="environment"/> is read only for sink <c>aad_env_var</c>, which Vault resolves
    /// when the config is loaded, and to check the key a persist block's <c>key_env_var</c> names.
    /// </summary>
    public static BoundConfigFile Bind(
        HclObject root, string fileName, Func<string, string?> environment, ICollection<ConfigDiagnostic> diagnostics) =>
        new ConfigBinder(environment, diagnostics).BindRoot(root, fileName);

    /// <summary>
    /// Every key the binder knows in the blocks <paramref name="root"/> contains (a block it does not contain is not
    /// visited), then every method and file-sink <c>config</c> key from <see cref="MethodConfigRules"/>. Problems in
    /// <paramref name="root"/> are not reported: this is for holding the configuration reference to the code.
    /// </summary>
    public static IReadOnlyList<KnownKey> KnownKeys(HclObject root)
    {
        var keys = new List<KnownKey>();
        new ConfigBinder(_ => null, new List<ConfigDiagnostic>(), keys).BindRoot(root, "known-keys");
        keys.AddRange(MethodConfigRules.KnownKeys);
        return keys;
    }

    private BlockReader Reader(HclObject body, string path) => new(body, path, _diagnostics, _knownKeys);

    private void Error(SourcePosition position, string path, string message) =>
        _diagnostics.Add(new ConfigDiagnostic(position, path, message));

    private BoundConfigFile BindRoot(HclObject root, string fileName)
    {
        var r = Reader(root, "");

        var vaultBlocks = Blocks(r, "vault");
        var autoAuthBlocks = Blocks(r, "auto_auth");
        var apiProxyBlocks = Blocks(r, "api_proxy");
        var cacheBlocks = Blocks(r, "cache");
        var telemetryBlocks = Blocks(r, "telemetry");
        OnlyOne(vaultBlocks, "vault", "one and only one \"vault\" block is required");
        OnlyOne(autoAuthBlocks, "auto_auth", "at most one \"auto_auth\" block is allowed");
        OnlyOne(apiProxyBlocks, "api_proxy", "one and only one \"api_proxy\" block is required");
        OnlyOne(cacheBlocks, "cache", "one and only one \"cache\" block is required");
        OnlyOne(telemetryBlocks, "telemetry", "one and only one \"telemetry\" block is required");

        var listeners = new List<ListenerConfig>();
        var listenerEntries = TypedBlocks(Blocks(r, "listener"), "proxy_api", "agent_api", "telemetry", "custom_response_headers");
        for (var i = 0; i < listenerEntries.Count; i++)
        {
            listeners.Add(BindListener(listenerEntries[i], i));
        }

        CacheConfig? cache = null;
        LegacyCacheKeys? legacy = null;
        if (cacheBlocks.Count > 0)
            cache = BindCache(cacheBlocks[0], out legacy);
        var origins = ImmutableDictionary.CreateBuilder<string, SourcePosition>(StringComparer.Ordinal);
        var apiProxy = apiProxyBlocks.Count > 0 ? BindApiProxy(apiProxyBlocks[0], origins) : null;
        if (legacy is not null)
            apiProxy = ApplyLegacyCacheKeys(apiProxy, legacy, apiProxyBlocks.Count > 0 ? apiProxyBlocks[0] : null);

        r.AddOrigins(TopLevelOriginKeys, "", origins);

        var config = new GatehouseConfig
        {
            Vault = vaultBlocks.Count > 0 ? BindVault(vaultBlocks[0], origins) : new VaultConfig(),
            AutoAuth = autoAuthBlocks.Count > 0 ? BindAutoAuth(autoAuthBlocks[0]) : null,
            ApiProxy = apiProxy,
            Cache = cache,
            Listeners = listeners,
            Telemetry = telemetryBlocks.Count > 0 ? BindTelemetry(telemetryBlocks[0]) : null,
            PidFile = r.String("pid_file"),
            ExitAfterAuth = r.Bool("exit_after_auth") ?? false,
            LogLevel = r.String("log_level"),
            LogFormat = r.String("log_format"),
            LogFile = r.String("log_file"),
            LogRotateBytes = r.Long("log_rotate_bytes"),
            LogRotateDuration = r.Duration("log_rotate_duration"),
            LogRotateMaxFiles = r.Int("log_rotate_max_files"),
            DisableIdleConnections = BindClientSet(r, "disable_idle_connections"),
            DisableKeepAlives = BindClientSet(r, "disable_keep_alives"),
            SourceFiles = [fileName],
        };
        config = config with { Origins = origins.ToImmutable() };

        // Server-only shared keys that appear in copied configs and mean nothing to an agent or proxy.
        r.Ignore("disable_mlock");
        r.Refuse(TemplatingRefused, "template", "template_config", "exec", "env_template");
        r.Finish();
        return new BoundConfigFile(config, vaultBlocks.Count > 0);
    }

    // ---- shapes -------------------------------------------------------------------------------------------

    /// <summary>A block body with the labels it was written with (after the block name).</summary>
    private sealed record BlockEntry(IReadOnlyList<HclKey> Labels, HclObject Body, SourcePosition Position, string Name);

    /// <summary>Every body written for <paramref name="key"/>: <c>key { }</c>, <c>key = { }</c>, <c>key = [{ }, { }]</c>.</summary>
    private List<BlockEntry> Blocks(BlockReader r, string key)
    {
        var entries = new List<BlockEntry>();
        foreach (var item in r.Items(key))
            AddBodies(entries, item.Keys.Skip(1).ToList(), item.Value, r.Child(key), key, item.Keys[0].Position);
        return entries;
    }

    /// <summary>Adds each body of <paramref name="value"/>; an entry is placed at its block name (or list element).</summary>
    private void AddBodies(
        List<BlockEntry> entries, IReadOnlyList<HclKey> labels, HclNode value, string path, string name, SourcePosition position)
    {
        switch (value)
        {
            case HclObject body:
                entries.Add(new BlockEntry(labels, body, position, name));
                break;
            case HclList list:
                foreach (var element in list.Items)
                    AddBodies(entries, labels, element, path, name, element.Position);
                break;
            default:
                Error(value.Position, path, $"expected a block, got {ValueParser.Describe(value)}");
                break;
        }
    }

    /// <summary>
    /// For typed blocks: a body with no labels and no <c>type</c> key whose items are all blocks is the JSON form
    /// <c>{"listener": {"tcp": {...}}}</c>; each item is then a labelled block. A body holding one of the block's own
    /// nested blocks (<paramref name="nestedBlocks"/>, e.g. <c>config</c>) is a body with a missing type instead.
    /// </summary>
    private List<BlockEntry> TypedBlocks(List<BlockEntry> entries, params string[] nestedBlocks)
    {
        var result = new List<BlockEntry>();
        foreach (var entry in entries)
        {
            var body = entry.Body;
            var isLabelMap = entry.Labels.Count == 0 && body.Items.Count > 0
                && !body.Items.Any(i => i.Name == "type" || nestedBlocks.Contains(i.Name))
                && body.Items.All(i => i.Value is HclObject || (i.Value is HclList l && l.Items.All(e => e is HclObject)));
            if (!isLabelMap)
            {
                result.Add(entry);
                continue;
            }

            foreach (var item in body.Items)
                AddBodies(result, item.Keys, item.Value, entry.Name, entry.Name, item.Keys[0].Position);
        }

        return result;
    }

    /// <summary>The type from a <c>type</c> key or else the single label; null (reported) when neither is there.</summary>
    private static string? TypeOf(BlockEntry entry, BlockReader r)
    {
        var typeKey = r.String("type");
        if (!string.IsNullOrEmpty(typeKey))
            return typeKey;
        return entry.Labels.Count == 1 ? entry.Labels[0].Name : null;
    }

    private void OnlyOne(List<BlockEntry> blocks, string path, string message)
    {
        for (var i = 1; i < blocks.Count; i++)
            Error(blocks[i].Position, path, $"{message}; merge the {blocks.Count} blocks into one");
    }

    private static string Quoted(string name, string type) => $"{name} \"{type}\"";

    /// <summary>
    /// The reader of a typed block (method, sink, persist, listener): its type from <c>type</c> or the label
    /// (<paramref name="lowerCase"/> for methods), and a reader whose path names it, e.g. <c>auto_auth.sink "file"</c>.
    /// </summary>
    private BlockReader TypedReader(BlockEntry entry, string basePath, out string? type, out string path, bool lowerCase = false)
    {
        type = TypeOf(entry, Reader(entry.Body, basePath));
        if (lowerCase)
            type = type?.ToLowerInvariant();
        path = type is null ? basePath : Quoted(basePath, type);
        var reader = Reader(entry.Body, path);
        reader.Ignore("type");
        return reader;
    }

    // ---- top level ------------------------------------------------------------------------------------------

    private UpstreamClientSet BindClientSet(BlockReader r, string key)
    {
        var set = UpstreamClientSet.None;
        foreach (var (value, position) in r.StringList(key) ?? [])
        {
            if (!TryParseClient(value, out var client))
                Error(position, key, $"unknown {key} value: {value}; use \"auto-auth\", \"caching\" or \"proxying\"");
            set |= client;
        }

        return set;
    }

    /// <summary>auto-auth, caching, proxying; Vault Agent's <c>templating</c> is accepted and means nothing here.</summary>
    public static bool TryParseClient(string value, out UpstreamClientSet client)
    {
        (client, var ok) = value switch
        {
            "auto-auth" => (UpstreamClientSet.AutoAuth, true),
            "caching" or "proxying" => (UpstreamClientSet.Proxying, true),
            "templating" => (UpstreamClientSet.None, true),
            _ => (UpstreamClientSet.None, false),
        };
        return ok;
    }
}

/// <summary>One bound file, and whether it had a <c>vault</c> block (a later one replaces an earlier one whole).</summary>
internal sealed record BoundConfigFile(GatehouseConfig Config, bool HasVaultBlock);
