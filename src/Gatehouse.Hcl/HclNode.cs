namespace Gatehouse.Hcl;

/// <summary>
/// A node of the HCL version 1 syntax tree. HCL1 (and its JSON form) has one structural idea: an object is a list of
/// items, each with one or more keys and a value. A block <c>listener "tcp" { ... }</c> is an item with keys
/// <c>["listener", "tcp"]</c> whose value is an object; <c>address = "x"</c> is an item with one key and a literal.
/// Repeated keys are kept, in source order.
/// </summary>
public abstract class HclNode
{
    protected HclNode(SourcePosition position) => Position = position;

    /// <summary>Where the node starts in its source file.</summary>
    public SourcePosition Position { get; }
}

/// <summary>One key of an object item: an identifier or a quoted string.</summary>
public sealed class HclKey(string name, bool quoted, SourcePosition position) : HclNode(position)
{
    public string Name { get; } = name;

    /// <summary>True when the key was written as a quoted string (block labels usually are).</summary>
    public bool Quoted { get; } = quoted;

    public override string ToString() => Name;
}

/// <summary>
/// <c>key = value</c>, <c>key { ... }</c>, <c>key = { ... }</c> or <c>key "label" ... { ... }</c>.
/// <see cref="Keys"/> always has at least one entry; entries after the first are block labels.
/// </summary>
public sealed class HclObjectItem(IReadOnlyList<HclKey> keys, HclNode value, bool assigned, SourcePosition position)
    : HclNode(position)
{
    public IReadOnlyList<HclKey> Keys { get; } = keys;

    public HclNode Value { get; } = value;

    /// <summary>True when the item was written with <c>=</c> (or <c>:</c> in JSON); false for block syntax.</summary>
    public bool Assigned { get; } = assigned;

    /// <summary>The first key: the attribute or block name.</summary>
    public string Name => Keys[0].Name;
}

/// <summary>An object body: <c>{ ... }</c>, or a whole file.</summary>
public sealed class HclObject(IReadOnlyList<HclObjectItem> items, SourcePosition position) : HclNode(position)
{
    public IReadOnlyList<HclObjectItem> Items { get; } = items;
}

/// <summary><c>[a, b, c]</c>.</summary>
public sealed class HclList(IReadOnlyList<HclNode> items, SourcePosition position) : HclNode(position)
{
    public IReadOnlyList<HclNode> Items { get; } = items;
}

/// <summary>A quoted string or a heredoc, with escapes already decoded.</summary>
public sealed class HclString(string value, SourcePosition position) : HclNode(position)
{
    public string Value { get; } = value;
}

/// <summary>
/// A number as written (<see cref="Text"/>) with its value. HCL1 reads a leading <c>0</c> as octal
/// (<c>mode = 0640</c> is 416) and <c>0x</c> as hexadecimal.
/// </summary>
public sealed class HclNumber(string text, long? integer, double value, SourcePosition position) : HclNode(position)
{
    /// <summary>The source text, e.g. <c>0640</c> or <c>1.5e3</c>.</summary>
    public string Text { get; } = text;

    /// <summary>The value when the number is an integer (decimal, octal or hex); null for a float.</summary>
    public long? Integer { get; } = integer;

    /// <summary>The value as a double (for integers too).</summary>
    public double Value { get; } = value;
}

/// <summary><c>true</c> or <c>false</c>.</summary>
public sealed class HclBool(bool value, SourcePosition position) : HclNode(position)
{
    public bool Value { get; } = value;
}

/// <summary>JSON <c>null</c> (HCL1 itself has no null literal).</summary>
public sealed class HclNull(SourcePosition position) : HclNode(position);
