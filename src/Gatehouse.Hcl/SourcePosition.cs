namespace Gatehouse.Hcl;

/// <summary>A place in a source file: 1-based line and column (column counts UTF-16 code units).</summary>
public readonly record struct SourcePosition(string File, int Line, int Column)
{
    /// <summary>Formats as <c>file:line:col</c>, the prefix of every diagnostic.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}";
}
