using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>
/// One problem with the configuration, at its place: <c>agent.hcl:12:3: auto_auth.method "approle": role_id_file_path
/// is required</c>. A position with line 0 names a source that has no lines (the environment, the command line, a
/// whole file), and then only its name is printed.
/// </summary>
internal sealed record ConfigDiagnostic(SourcePosition Position, string Path, string Message)
{
    /// <summary>The offending source line and a caret under the column, for parse errors; otherwise null.</summary>
    public string? Snippet { get; init; }

    public override string ToString()
    {
        var where = Position.Line > 0 ? Position.ToString() : Position.File ?? "";
        var path = Path.Length > 0 ? $"{Path}: " : "";
        return where.Length > 0 ? $"{where}: {path}{Message}" : $"{path}{Message}";
    }

    /// <summary>The diagnostic, then its snippet when it has one: what a person should see.</summary>
    public string ToDisplayString() => string.IsNullOrEmpty(Snippet) ? ToString() : $"{this}\n{Snippet}";

    /// <summary>The position used for problems that come from an environment variable.</summary>
    public static SourcePosition Environment(string variable) => new($"environment variable {variable}", 0, 0);

    /// <summary>The position used for problems that come from a command-line flag.</summary>
    public static SourcePosition Flag(string flag) => new($"flag -{flag}", 0, 0);
}
