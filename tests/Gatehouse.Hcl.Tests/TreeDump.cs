using System.Globalization;
using System.Text;

namespace Gatehouse.Hcl.Tests;

/// <summary>
/// Renders a tree as compact text so tests can state a whole expected shape in one line, and so HCL and JSON trees
/// can be compared. <see cref="Canonical"/> expands block labels into nested objects (<c>a "b" { }</c> becomes
/// <c>a = { b = { } }</c>), which is what HCL1's JSON form means, and ignores whether '=' was written.
/// </summary>
internal static class TreeDump
{
    public static string Dump(HclNode node) => Write(new StringBuilder(), node, canonical: false).ToString();

    public static string Canonical(HclNode node) => Write(new StringBuilder(), node, canonical: true).ToString();

    private static StringBuilder Write(StringBuilder sb, HclNode node, bool canonical)
    {
        switch (node)
        {
            case HclObject obj:
                sb.Append('{');
                for (var i = 0; i < obj.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(' ');
                    }

                    var item = obj.Items[i];
                    if (canonical)
                    {
                        sb.Append(item.Keys[0].Name).Append('=');
                        for (var k = 1; k < item.Keys.Count; k++)
                        {
                            sb.Append('{').Append(item.Keys[k].Name).Append('=');
                        }

                        Write(sb, item.Value, canonical);
                        sb.Append('}', item.Keys.Count - 1);
                    }
                    else
                    {
                        sb.AppendJoin(' ', item.Keys.Select(k => k.Quoted ? $"\"{k.Name}\"" : k.Name));
                        sb.Append(item.Assigned ? "=" : " ");
                        Write(sb, item.Value, canonical);
                    }
                }

                return sb.Append('}');
            case HclList list:
                sb.Append('[');
                for (var i = 0; i < list.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    Write(sb, list.Items[i], canonical);
                }

                return sb.Append(']');
            case HclString s:
                return sb.Append('"').Append(s.Value.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\"", "\\\"")).Append('"');
            case HclNumber n:
                return sb.Append(canonical ? n.Value.ToString("R", CultureInfo.InvariantCulture) : n.Text);
            case HclBool b:
                return sb.Append(b.Value ? "true" : "false");
            case HclNull:
                return sb.Append("null");
            default:
                throw new InvalidOperationException(node.GetType().Name);
        }
    }
}
