using Gatehouse.Configuration;
using Gatehouse.GoCompat;

namespace Gatehouse.Hosting;

/// <summary>
/// The flags shared by <c>proxy</c>/<c>agent</c> and <c>validate</c>, parsed the way Go's flag package (and so Vault)
/// does: <c>-name=value</c>, <c>-name value</c>, and the same with <c>--</c>; boolean flags take no value unless
/// written <c>-name=false</c>. <c>-config</c> may be repeated.
/// </summary>
internal sealed record ConfigArguments(IReadOnlyList<string> ConfigPaths, ConfigOverrides Overrides)
{
    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal) { "exit-after-auth", "tls-skip-verify" };

    private static readonly HashSet<string> ValueFlags = new(StringComparer.Ordinal)
    {
        "config", "log-level", "log-format", "log-file", "log-rotate-bytes", "log-rotate-duration", "log-rotate-max-files",
        "address", "ca-cert", "ca-path", "client-cert", "client-key", "tls-server-name", "namespace",
    };

    public const string HelpRequested = GoFlags.HelpRequested;

    public const string FlagsHelp = """
        Options:
            -config=PATH              A config file or directory (*.hcl, *.json). Repeatable; files merge in order.
            -log-level=LEVEL          trace, debug, info, warn or error. Default: info.
            -log-format=FORMAT        standard or json. Default: standard.
            -log-file=PATH            Also write logs to this file.
            -log-rotate-bytes=N       Rotate the log file after N bytes.
            -log-rotate-duration=D    Rotate the log file after D (e.g. 24h).
            -log-rotate-max-files=N   How many rotated files to keep (-1 keeps none).
            -exit-after-auth          Exit once every sink has the first token.
            -address=URL              Vault address (env VAULT_ADDR). Default: https://127.0.0.1:8200.
            -ca-cert=PATH, -ca-path=PATH, -client-cert=PATH, -client-key=PATH
            -tls-skip-verify, -tls-server-name=NAME, -namespace=NS
        Flags beat environment variables, which beat the config files.
        """;

    /// <summary>Parses the arguments after the subcommand; on a usage error returns null and the message.</summary>
    public static ConfigArguments? Parse(IReadOnlyList<string> args, out string error)
    {
        var paths = new List<string>();
        var o = new ConfigOverrides();
        error = GoFlags.Parse(
            args, BoolFlags, ValueFlags,
            (name, on) =>
            {
                o = name == "exit-after-auth" ? o with { ExitAfterAuth = on } : o with { TlsSkipVerify = on };
                return null;
            },
            (name, value) =>
            {
                switch (name)
                {
                    case "config": paths.Add(value); return null;
                    case "log-level": o = o with { LogLevel = value }; return null;
                    case "log-format": o = o with { LogFormat = value }; return null;
                    case "log-file": o = o with { LogFile = value }; return null;
                    case "address": o = o with { Address = value }; return null;
                    case "ca-cert": o = o with { CaCert = value }; return null;
                    case "ca-path": o = o with { CaPath = value }; return null;
                    case "client-cert": o = o with { ClientCert = value }; return null;
                    case "client-key": o = o with { ClientKey = value }; return null;
                    case "tls-server-name": o = o with { TlsServerName = value }; return null;
                    case "namespace": o = o with { Namespace = value }; return null;
                    // Go's flag package reads ints with base prefixes (0x10, 0o17, 0b1), as GoFormat does.
                    case "log-rotate-bytes" when GoFormat.TryParseInt(value, out var bytes): o = o with { LogRotateBytes = bytes }; return null;
                    case "log-rotate-max-files" when GoFormat.TryParseInt(value, out var files) && files is >= int.MinValue and <= int.MaxValue:
                        o = o with { LogRotateMaxFiles = (int)files };
                        return null;
                    case "log-rotate-duration" when GoFormat.TryParseDurationSecond(value, out var duration):
                        o = o with { LogRotateDuration = duration };
                        return null;
                    default:
                        return $"invalid value \"{value}\" for flag -{name}";
                }
            },
            arg => $"unexpected argument \"{arg}\"; give config files with -config=PATH") ?? "";
        if (error.Length > 0)
        {
            return null;
        }

        if (paths.Count == 0)
        {
            error = "Must specify exactly at least one config path using -config";
            return null;
        }

        return new ConfigArguments(paths, o);
    }
}
