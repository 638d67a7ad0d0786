using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Vault;

namespace Gatehouse.Sinks;

/// <summary>
/// Maps <c>auto_auth.sink</c> blocks to sinks, after checking the keys with the same <see cref="MethodConfigRules"/>
/// config validation uses. Throws <see cref="AutoAuthConfigException"/>.
/// </summary>
internal static class SinkFactory
{
    public static SinkPipeline Create(SinkConfig sink, VaultClient client)
    {
        var type = sink.Type.ToLowerInvariant();
        var owner = $"auto_auth.sink \"{type}\"";
        if (type != "file")
        {
            throw new AutoAuthConfigException($"{owner}: Unknown sink type \"{type}\" (Gatehouse supports file)");
        }

        var problems = new List<ConfigDiagnostic>();
        MethodConfigRules.CheckFileSink(sink, owner, problems);
        MethodConfigRules.CheckSinkEncryption(sink, owner, problems);
        MethodSettings.Validate(problems);
        var settings = new MethodSettings(sink.Config, owner);
        var path = settings.GetRequiredString("path");
        var mode = settings.GetFileMode("mode") ?? Defaults.FileSinkMode;

        var uid = settings.GetInt64("uid");
        var gid = settings.GetInt64("gid");
        var file = new FileSink(path, (int)mode, (int?)uid, (int?)gid);

        DhEncryptor? dh = null;
        if (sink.DhType is not null && sink.DhPath is not null)
        {
            // Aad already holds aad_env_var's value: the loader resolves it once, as Vault does at config load.
            dh = new DhEncryptor(sink.DhPath, sink.DeriveKey, sink.Aad);
        }

        return new SinkPipeline(file, sink.WrapTtl, sink.WrapTtl is null ? null : client, dh);
    }
}
