namespace Gatehouse.Hcl;

/// <summary>The token kinds of HCL1 that Vault configs can use.</summary>
internal enum HclTokenKind
{
    EndOfFile,
    Identifier,
    String,
    Heredoc,
    Number,
    Bool,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Assign,
    Comma,
}
