namespace Gatehouse.Hcl;

/// <summary>
/// One token. A struct (structs are sealed by nature) because a 10 MB file has millions of them and the parser
/// only ever holds one lookahead token.
/// </summary>
/// <param name="Text">Identifier name, decoded string or heredoc value, number source text, or "true"/"false".</param>
/// <param name="Integer">For numbers: the value when it is an integer.</param>
/// <param name="Number">For numbers: the value as a double.</param>
internal readonly record struct HclToken(
    HclTokenKind Kind,
    int Offset,
    int Line,
    int Column,
    string Text,
    long? Integer = null,
    double Number = 0);
