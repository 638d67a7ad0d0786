using System.Globalization;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Shared;

/// <summary>
/// The fleet a replica belongs to: an HMAC (the naming key of <see cref="SharedKeys"/>) of its auto-auth method's
/// configuration: type, effective mount path, namespace, and every <c>config</c> key with its value in a canonical
/// form (keys sorted, values by kind). Replicas with the same method and the same key material share a fleet (and so a
/// token); any difference, including a secret value, makes another fleet, and no value, secret or not, can be read back
/// from the id. Paths are compared as written: two replicas reading different files at the same path are one fleet.
/// </summary>
internal static class FleetId
{
    public static string Of(AuthMethodConfig method, SharedKeys keys)
    {
        var text = new StringBuilder();
        Field(text, "type", method.Type);
        Field(text, "mount_path", method.EffectiveMountPath);
        Field(text, "namespace", method.Namespace ?? "");
        foreach (var (key, value) in method.Config.Values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var canonical = new StringBuilder();
            Canonical(canonical, value);
            Field(text, "config." + key, canonical.ToString());
        }

        return keys.Name("fleet", text.ToString());
    }

    // Length-prefixed, so that no choice of values makes two configurations write the same text.
    private static void Field(StringBuilder text, string name, string value) =>
        text.Append(CultureInfo.InvariantCulture, $"{name.Length}:{name}={value.Length}:{value};");

    private static void Canonical(StringBuilder text, HclNode node)
    {
        switch (node)
        {
            case HclString s:
                Field(text, "s", s.Value);
                break;
            case HclNumber n:
                Field(text, "n", n.Integer is { } i ? i.ToString(CultureInfo.InvariantCulture) : n.Value.ToString("R", CultureInfo.InvariantCulture));
                break;
            case HclBool b:
                Field(text, "b", b.Value ? "true" : "false");
                break;
            case HclList list:
                text.Append(CultureInfo.InvariantCulture, $"[{list.Items.Count}:");
                foreach (var item in list.Items)
                    Canonical(text, item);
                text.Append(']');
                break;
            case HclObject obj:
                text.Append(CultureInfo.InvariantCulture, $"{{{obj.Items.Count}:");
                foreach (var item in obj.Items.OrderBy(i => i.Name, StringComparer.Ordinal))
                {
                    Field(text, "k", string.Join('.', item.Keys.Select(k => k.Name)));
                    Canonical(text, item.Value);
                }

                text.Append('}');
                break;
            default:
                Field(text, "null", "");
                break;
        }
    }
}
