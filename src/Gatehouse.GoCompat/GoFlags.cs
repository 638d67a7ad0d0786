namespace Gatehouse.GoCompat;

/// <summary>
/// The shape of Go's <c>flag</c> package, which Vault's commands use and users' scripts follow: one or two leading
/// dashes, <c>-name=value</c> or <c>-name value</c>, booleans bare (<c>-tls-skip-verify</c>) or with Go's boolean
/// spellings after <c>=</c>, <c>-h</c>/<c>-help</c>, and Go's messages for a flag that is not defined or lacks its
/// argument. Each command keeps its own flag set and what a value means.
/// </summary>
internal static class GoFlags
{
    /// <summary>The error text for <c>-h</c>, <c>-help</c> or <c>--help</c>: print the usage and succeed.</summary>
    public const string HelpRequested = "help requested";

    /// <summary>
    /// Walks <paramref name="args"/>: each boolean flag goes to <paramref name="onBool"/>, each value flag with its value
    /// to <paramref name="onValue"/>; either returns an error message, or null to go on. Returns the first error (a
    /// positional argument gets <paramref name="positional"/>'s message), or null when every flag was taken.
    /// </summary>
    public static string? Parse(
        IReadOnlyList<string> args, IReadOnlySet<string> boolFlags, IReadOnlySet<string> valueFlags,
        Func<string, bool, string?> onBool, Func<string, string, string?> onValue, Func<string, string> positional)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "-help" or "--help")
            {
                return HelpRequested;
            }

            if (!arg.StartsWith('-') || arg is "-" or "--")
            {
                return positional(arg);
            }

            var body = arg.TrimStart('-');
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            var name = eq >= 0 ? body[..eq] : body;
            string? value = eq >= 0 ? body[(eq + 1)..] : null;
            if (boolFlags.Contains(name))
            {
                if (!GoFormat.TryParseBool(value ?? "true", out var on))
                {
                    return $"invalid boolean value \"{value}\" for -{name}";
                }

                if (onBool(name, on) is { } boolError)
                {
                    return boolError;
                }

                continue;
            }

            if (!valueFlags.Contains(name))
            {
                return $"flag provided but not defined: -{name}";
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    return $"flag needs an argument: -{name}";
                }

                value = args[++i];
            }

            if (onValue(name, value) is { } valueError)
            {
                return valueError;
            }
        }

        return null;
    }
}
