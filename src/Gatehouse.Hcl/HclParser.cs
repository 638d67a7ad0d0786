namespace Gatehouse.Hcl;

/// <summary>Parses HCL version 1 text, the syntax of Vault Agent and Vault Proxy configuration files.</summary>
public static class HclParser
{
    /// <summary>
    /// How deeply objects and lists may nest. Real configs nest four or five levels; the limit exists so that hostile
    /// input gets a positioned error instead of exhausting the stack.
    /// </summary>
    public const int MaxNestingDepth = 1000;

    /// <summary>Parses HCL1 text. Throws <see cref="HclParseException"/> (positioned) on any syntax error.</summary>
    /// <param name="text">The whole file.</param>
    /// <param name="fileName">The name used in positions and messages.</param>
    public static HclObject Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);

        // hcl.Parse turns every "\r\n" into "\n" before it scans, so heredocs and ${...} spanning lines read as LF.
        // Lines and columns do not move: only a '\r' at the very end of a line goes.
        if (text.Contains("\r\n", StringComparison.Ordinal))
        {
            text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        }

        // A NUL means the file is not text (or is truncated binary); say so once, up front, wherever it is.
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            throw HclErrors.At(text, fileName, nul, "NUL byte in input; a configuration file must be text");
        }

        var start = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;

        // hcl's scanner refuses U+E123 anywhere in the file, comments included (it uses that code point itself), when
        // it gets there: a syntax error before it is what hcl reports, and so do we.
        var reserved = text.IndexOf('\uE123', StringComparison.Ordinal);
        if (reserved < 0)
        {
            return new HclSyntaxParser(text, fileName, start).ParseFile();
        }

        var reservedError = HclErrors.At(text, fileName, reserved, "U+E123 is not allowed in HCL (hcl reserves it for internal use)");
        try
        {
            new HclSyntaxParser(text, fileName, start).ParseFile();
        }
        catch (HclParseException ex) when (
            (ex.Position.Line, ex.Position.Column).CompareTo((reservedError.Position.Line, reservedError.Position.Column)) < 0)
        {
            throw;
        }
        catch (HclParseException)
        {
        }

        throw reservedError;
    }
}
