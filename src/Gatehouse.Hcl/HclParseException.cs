namespace Gatehouse.Hcl;

/// <summary>
/// A syntax error with its place. <see cref="Exception.Message"/> reads
/// <c>agent.hcl:12:7: expected '=' or '{' after key "address"</c>; <see cref="Snippet"/> holds the source line and a
/// caret under the column, for showing to a person.
/// </summary>
public sealed class HclParseException : Exception
{
    public HclParseException(SourcePosition position, string detail, string snippet)
        : base($"{position}: {detail}")
    {
        Position = position;
        Detail = detail;
        Snippet = snippet;
    }

    public SourcePosition Position { get; }

    /// <summary>The message without the position prefix.</summary>
    public string Detail { get; }

    /// <summary>The offending source line followed by a line with a caret under the column (may be empty).</summary>
    public string Snippet { get; }

    /// <summary>The message, then the snippet: what a user should see.</summary>
    public string ToDisplayString() => Snippet.Length == 0 ? Message : $"{Message}\n{Snippet}";
}
