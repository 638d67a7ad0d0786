using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Vault;

namespace Gatehouse.Sinks;

/// <summary>Maps <c>auto_auth.sink</c> blocks to sinks. Throws <see cref="AutoAuthConfigException"/>.</summary>
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

        var settings = new MethodSettings(sink.Config, owner);
        var path = settings.GetString("path") ?? throw new AutoAuthConfigException($"{owner}: 'path' not specified for file sink");
        var mode = settings.GetInt64("mode") ?? Defaults.FileSinkMode;
        if (mode is < 0 or > FileSink.MaxMode)
        {
            throw new AutoAuthConfigException($"{owner}: file mode does not represent a regular file (mode must be 0000–0777, e.g. 0640)");
        }

        var uid = settings.GetInt64("uid");
        var gid = settings.GetInt64("gid");
        var file = new FileSink(path, (int)mode, (int?)uid, (int?)gid);

        DhEncryptor? dh = null;
        if (!string.IsNullOrEmpty(sink.DhType) || !string.IsNullOrEmpty(sink.DhPath))
        {
            if (!string.Equals(sink.DhType, "curve25519", StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(sink.DhPath))
            {
                throw new AutoAuthConfigException($"{owner}: dh_type must be \"curve25519\" and dh_path must be set together");
            }

            // Aad already holds aad_env_var's value: the loader resolves it once, as Vault does at config load.
            dh = new DhEncryptor(sink.DhPath, sink.DeriveKey, sink.Aad);
        }

        return new SinkPipeline(file, sink.WrapTtl, sink.WrapTtl is null ? null : client, dh);
    }
}
