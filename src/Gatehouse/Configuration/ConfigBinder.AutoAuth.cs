using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>The <c>auto_auth</c> block: one <c>method</c>, its <c>sink</c>s, and their free-form <c>config</c> maps.</summary>
internal sealed partial class ConfigBinder
{
    /// <summary>Auth methods Gatehouse implements.</summary>
    public static readonly ImmutableArray<string> SupportedMethods = ["alicloud", "approle", "aws", "azure", "cert", "cf", "gcp", "jwt", "kerberos", "kubernetes", "ldap", "oci", "pcf", "token_file"];

    private AutoAuthConfig BindAutoAuth(BlockEntry entry)
    {
        var r = Reader(entry.Body, "auto_auth");
        var methods = TypedBlocks(Blocks(r, "method"), "config");
        AuthMethodConfig method;
        if (methods.Count != 1)
        {
            var where = methods.Count == 0 ? entry.Position : methods[1].Position;
            Error(where, "auto_auth", methods.Count == 0
                ? "one and only one \"method\" block is required; add method \"approle\" { ... } (or another method)"
                : $"one and only one \"method\" block is required; found {methods.Count}");
        }

        // A placeholder keeps auto_auth present when its method is missing or bad, so that the validator does not add
        // misleading follow-on errors ("auto_auth not configured"). A config with errors is never handed out.
        method = methods.Count > 0 ? BindMethod(methods[0]) : new AuthMethodConfig { Type = "", Position = entry.Position };

        var sinkEntries = Blocks(r, "sink");
        foreach (var sinksBlock in Blocks(r, "sinks"))
        {
            var sr = Reader(sinksBlock.Body, "auto_auth.sinks");
            sinkEntries.AddRange(Blocks(sr, "sink"));
            sr.Finish();
        }

        var sinks = new List<SinkConfig>();
        foreach (var sinkEntry in TypedBlocks(sinkEntries, "config"))
        {
            sinks.Add(BindSink(sinkEntry));
        }

        var reauth = r.Bool("enable_reauth_on_new_credentials") ?? false;
        r.Finish();
        return new AutoAuthConfig
        {
            Method = method,
            Sinks = sinks,
            EnableReauthOnNewCredentials = reauth,
            Position = entry.Position,
        };
    }

    /// <summary>Binds a method; one with a missing or unknown type is reported and still returned (see BindAutoAuth).</summary>
    private AuthMethodConfig BindMethod(BlockEntry entry)
    {
        var mr = TypedReader(entry, "auto_auth.method", out var type, out var path, lowerCase: true);
        var method = new AuthMethodConfig
        {
            Type = type ?? "",
            MountPath = mr.String("mount_path"),
            Namespace = mr.String("namespace"),
            WrapTtl = mr.Duration("wrap_ttl"),
            MinBackoff = mr.Duration("min_backoff"),
            MaxBackoff = mr.Duration("max_backoff"),
            ExitOnError = mr.Bool("exit_on_err") ?? false,
            Config = BindConfigMap(mr, entry),
            Position = entry.Position,
        };
        mr.Finish();

        if (type is null)
        {
            Error(entry.Position, path, "method type must be specified; write method \"approle\" { ... } or type = \"approle\"");
            return method;
        }

        if (!SupportedMethods.Contains(type))
        {
            var suggestion = BlockReader.Suggest(type, SupportedMethods);
            Error(entry.Position, path, $"unknown auth method \"{type}\"; " + (suggestion is not null
                ? $"did you mean {suggestion}?"
                : $"use one of {string.Join(", ", SupportedMethods)}"));
            return method;
        }

        MethodConfigRules.Check(method, path, _diagnostics);
        return method;
    }

    private SinkConfig BindSink(BlockEntry entry)
    {
        var sr = TypedReader(entry, "auto_auth.sink", out var type, out var path);
        var aadEnvVar = sr.String("aad_env_var");
        var aad = sr.String("aad");
        if (!string.IsNullOrEmpty(aadEnvVar))
            aad = _environment(aadEnvVar) ?? "";
        var sink = new SinkConfig
        {
            Type = type ?? "",
            WrapTtl = sr.Duration("wrap_ttl"),
            DhType = sr.String("dh_type"),
            DhPath = sr.String("dh_path"),
            DeriveKey = sr.Bool("derive_key") ?? false,
            Aad = aad,
            AadEnvVar = aadEnvVar,
            Config = BindConfigMap(sr, entry),
            Position = entry.Position,
        };
        sr.Finish();

        if (type is null)
        {
            Error(entry.Position, path, "sink type must be specified; write sink \"file\" { ... }");
            return sink;
        }

        if (type != "file")
        {
            Error(entry.Position, path, $"Unknown sink type \"{type}\"; the only sink type is \"file\"");
            return sink;
        }

        MethodConfigRules.CheckFileSink(sink, path, _diagnostics);
        return sink;
    }

    /// <summary><c>config { }</c>, <c>config = { }</c> or JSON <c>"config": [{ }]</c>: one map of free-form keys.</summary>
    private ConfigMap BindConfigMap(BlockReader r, BlockEntry owner)
    {
        var blocks = Blocks(r, "config");
        if (blocks.Count == 0)
            return new ConfigMap(ImmutableDictionary<string, HclNode>.Empty, owner.Position);
        for (var i = 1; i < blocks.Count; i++)
            Error(blocks[i].Position, r.Child("config"), "only one \"config\" block is allowed; merge them into one");
        var values = ImmutableDictionary.CreateBuilder<string, HclNode>(StringComparer.Ordinal);
        var keyPositions = ImmutableDictionary.CreateBuilder<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var item in blocks[0].Body.Items)
        {
            values[item.Name] = item.Keys.Count > 1 ? new HclObject([item], item.Position) : item.Value;
            keyPositions[item.Name] = item.Keys[0].Position;
        }

        return new ConfigMap(values.ToImmutable(), blocks[0].Body.Position, keyPositions.ToImmutable());
    }
}
