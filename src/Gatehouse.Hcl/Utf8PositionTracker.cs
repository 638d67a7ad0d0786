namespace Gatehouse.Hcl;

/// <summary>
/// Turns increasing UTF-8 byte offsets into line and column (UTF-16 code units, like the HCL lexer), walking the
/// input once in total rather than once per node, so a 10 MB single-line JSON file stays linear.
/// </summary>
internal sealed class Utf8PositionTracker(string file)
{
    private int _offset;
    private int _line = 1;
    private int _column = 1;

    public SourcePosition Advance(ReadOnlySpan<byte> utf8, int offset)
    {
        offset = Math.Clamp(offset, _offset, utf8.Length);
        for (var i = _offset; i < offset; i++)
        {
            var b = utf8[i];
            if (b == (byte)'\n')
            {
                _line++;
                _column = 1;
            }
            else if ((b & 0xC0) != 0x80)
            {
                // A lead byte starts a character; four-byte sequences are a surrogate pair in UTF-16.
                _column += b >= 0xF0 ? 2 : 1;
            }
        }

        _offset = offset;
        return new SourcePosition(file, _line, _column);
    }
}
