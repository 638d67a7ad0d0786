namespace Gatehouse.Hcl;

/// <summary>
/// Builds positioned <see cref="HclParseException"/>s with a caret snippet. Line and column are computed from the
/// offset only here, on the error path, so the hot path never pays for it.
/// </summary>
internal static class HclErrors
{
    // A minified or generated file can have one enormous line; show a window around the column instead.
    private const int MaxSnippetWidth = 120;

    public static HclParseException At(string text, string file, int offset, string detail)
    {
        offset = Math.Clamp(offset, 0, text.Length);
        var before = text.AsSpan(0, offset);
        var line = 1 + before.Count('\n');
        var lineStart = before.LastIndexOf('\n') + 1;

        // A byte order mark is not a column a person can see.
        if (lineStart == 0 && text.Length > 0 && text[0] == '\uFEFF' && offset > 0)
        {
            lineStart = 1;
        }

        var lineEnd = text.IndexOf('\n', lineStart);
        var lineText = text.AsSpan(lineStart, (lineEnd < 0 ? text.Length : lineEnd) - lineStart);
        var column = offset - lineStart + 1;
        return At(new SourcePosition(file, line, column), lineText, detail);
    }

    public static HclParseException At(SourcePosition position, ReadOnlySpan<char> lineText, string detail) =>
        new(position, detail, Snippet(lineText, position.Column));

    /// <summary>The line, then a line with a caret under <paramref name="column"/>; tabs are kept so it aligns.</summary>
    public static string Snippet(ReadOnlySpan<char> line, int column)
    {
        line = line.TrimEnd('\r');
        var caret = Math.Clamp(column - 1, 0, line.Length);
        var from = 0;
        if (line.Length > MaxSnippetWidth && caret > MaxSnippetWidth / 2)
        {
            from = Math.Min(caret - (MaxSnippetWidth / 2), line.Length - MaxSnippetWidth);
        }

        var to = Math.Min(line.Length, from + MaxSnippetWidth);
        var builder = new System.Text.StringBuilder((to - from) + (caret - from) + 2);
        foreach (var c in line[from..to])
        {
            // Control characters (a NUL, say) would garble a terminal; one visible stand-in keeps the caret aligned.
            builder.Append(c != '\t' && char.IsControl(c) ? '?' : c);
        }

        builder.Append('\n');
        foreach (var c in line[from..caret])
        {
            builder.Append(c == '\t' ? '\t' : ' ');
        }

        return builder.Append('^').ToString();
    }
}
