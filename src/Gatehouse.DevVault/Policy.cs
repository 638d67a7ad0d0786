using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.DevVault;

[Flags]
internal enum Caps
{
    None = 0,
    Deny = 1,
    Create = 2,
    Read = 4,
    Update = 8,
    Delete = 16,
    List = 32,
    Sudo = 64,
    Root = 128,
    /// <summary>Vault 1.16+ (events): may receive event notifications about this path.</summary>
    Subscribe = 256,
}

/// <summary>One <c>path</c> block: its pattern, capabilities and (Vault 1.16+) <c>subscribe_event_types</c>.</summary>
internal sealed record PolicyRule(string Pattern, Caps Caps, IReadOnlyList<string>? SubscribeEventTypes = null);

/// <summary>An ACL policy: its name, the text it was written with, and its path rules.</summary>
internal sealed record Policy(string Name, string Text, IReadOnlyList<PolicyRule> Rules)
{
    public const string DefaultText = """
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its resultant ACL from all policies.
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
""";

    public static Caps ParseCapability(string c) => c switch
    {
        "create" => Caps.Create,
        "read" => Caps.Read,
        "update" => Caps.Update,
        "delete" => Caps.Delete,
        "list" => Caps.List,
        "sudo" => Caps.Sudo,
        "deny" => Caps.Deny,
        "root" => Caps.Root,
        "subscribe" => Caps.Subscribe,
        _ => Caps.None,
    };

    public static IEnumerable<string> CapabilityNames(Caps caps)
    {
        if (caps.HasFlag(Caps.Root))
        {
            yield return "root";
            yield break;
        }
        if (caps == Caps.None || caps.HasFlag(Caps.Deny))
        {
            yield return "deny";
            yield break;
        }
        // Vault sorts capability names alphabetically.
        if (caps.HasFlag(Caps.Create)) { yield return "create"; }
        if (caps.HasFlag(Caps.Delete)) { yield return "delete"; }
        if (caps.HasFlag(Caps.List)) { yield return "list"; }
        if (caps.HasFlag(Caps.Read)) { yield return "read"; }
        if (caps.HasFlag(Caps.Subscribe)) { yield return "subscribe"; }
        if (caps.HasFlag(Caps.Sudo)) { yield return "sudo"; }
        if (caps.HasFlag(Caps.Update)) { yield return "update"; }
    }

    /// <summary>Parses HCL (or its JSON form). On failure, error holds Vault's message after "failed to parse policy: ".</summary>
    public static Policy? Parse(string name, string text, out string error)
    {
        error = "";
        JsonObject? root;
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                root = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException e)
            {
                error = e.Message;
                return null;
            }
        }
        else
        {
            var parser = new HclReader(text);
            root = parser.ParseBody(topLevel: true);
            if (root is null)
            {
                error = parser.Error;
                return null;
            }
        }
        var rules = new List<PolicyRule>();
        if (root?["path"] is JsonNode paths)
        {
            foreach (var block in paths is JsonArray arr ? arr.OfType<JsonObject>() : [paths as JsonObject ?? new JsonObject()])
            {
                foreach (var (pattern, body) in block)
                {
                    foreach (var b in body is JsonArray many ? many.OfType<JsonObject>() : [body as JsonObject ?? new JsonObject()])
                    {
                        var caps = Caps.None;
                        if (b["capabilities"] is JsonArray list)
                        {
                            foreach (var c in list)
                            {
                                var cap = ParseCapability(c?.ToString() ?? "");
                                if (cap == Caps.None)
                                {
                                    error = $"path \"{pattern}\": invalid capability \"{c}\"";
                                    return null;
                                }
                                caps |= cap;
                            }
                        }
                        if (b["policy"] is JsonValue legacy)
                        {
                            caps |= legacy.ToString() switch
                            {
                                "deny" => Caps.Deny,
                                "read" => Caps.Read | Caps.List,
                                "write" => Caps.Create | Caps.Read | Caps.Update | Caps.Delete | Caps.List,
                                "sudo" => Caps.Create | Caps.Read | Caps.Update | Caps.Delete | Caps.List | Caps.Sudo,
                                _ => Caps.None,
                            };
                        }
                        List<string>? eventTypes = null;
                        if (b["subscribe_event_types"] is JsonArray types)
                        {
                            eventTypes = [.. types.Select(t => t?.ToString() ?? "")];
                        }
                        rules.Add(new PolicyRule(pattern, caps, eventTypes));
                    }
                }
            }
        }
        return new Policy(name, text, rules);
    }
}

/// <summary>
/// A small reader for the HCL subset policies use: blocks with string labels, attributes, strings, numbers,
/// booleans, lists and comments. Blocks become JSON objects the way HCL's JSON mapping does
/// (<c>path "a" { … }</c> → <c>{"path":[{"a":{…}}]}</c>). Errors use HCL's "At line:col: …" shape.
/// </summary>
internal sealed class HclReader(string text)
{
    private int _pos;
    private int _line = 1;
    private int _col = 1;

    public string Error { get; private set; } = "";

    public JsonObject? ParseBody(bool topLevel)
    {
        var obj = new JsonObject();
        while (true)
        {
            SkipTrivia();
            if (_pos >= text.Length)
            {
                if (topLevel)
                {
                    return obj;
                }
                return Fail("object expected closing RBRACE got: EOF");
            }
            if (text[_pos] == '}')
            {
                if (topLevel)
                {
                    return Fail("expected: IDENT | STRING got: RBRACE");
                }
                Advance();
                return obj;
            }
            var key = ReadKey();
            if (key is null)
            {
                return null;
            }
            var labels = new List<string>();
            while (true)
            {
                SkipTrivia();
                if (_pos < text.Length && text[_pos] == '"')
                {
                    var l = ReadString();
                    if (l is null)
                    {
                        return null;
                    }
                    labels.Add(l);
                    continue;
                }
                break;
            }
            SkipTrivia();
            if (_pos >= text.Length)
            {
                return Fail(topLevel ? "key '" + key + "' expected start of object ('{') or assignment ('=')" : "object expected closing RBRACE got: EOF");
            }
            JsonNode? value;
            if (text[_pos] == '=' && labels.Count == 0)
            {
                Advance();
                value = ParseValue();
                if (value is null && Error.Length > 0)
                {
                    return null;
                }
                obj[key] = value;
                continue;
            }
            if (text[_pos] != '{')
            {
                return Fail("key '" + key + "' expected start of object ('{') or assignment ('=')");
            }
            Advance();
            var body = ParseBody(topLevel: false);
            if (body is null)
            {
                return null;
            }
            JsonNode node = body;
            for (var i = labels.Count - 1; i >= 0; i--)
            {
                node = new JsonObject { [labels[i]] = node };
            }
            if (obj[key] is not JsonArray arr)
            {
                arr = [];
                obj[key] = arr;
            }
            arr.Add(node);
        }
    }

    private JsonNode? ParseValue()
    {
        SkipTrivia();
        if (_pos >= text.Length)
        {
            Fail("object expected closing RBRACE got: EOF");
            return null;
        }
        var c = text[_pos];
        if (c == '"')
        {
            var s = ReadString();
            return s is null ? null : JsonValue.Create(s);
        }
        if (c == '[')
        {
            Advance();
            var arr = new JsonArray();
            while (true)
            {
                SkipTrivia();
                if (_pos >= text.Length)
                {
                    Fail("object expected closing RBRACE got: EOF");
                    return null;
                }
                if (text[_pos] == ']')
                {
                    Advance();
                    return arr;
                }
                var item = ParseValue();
                if (item is null && Error.Length > 0)
                {
                    return null;
                }
                arr.Add(item);
                SkipTrivia();
                if (_pos < text.Length && text[_pos] == ',')
                {
                    Advance();
                }
            }
        }
        if (c == '{')
        {
            Advance();
            return ParseBody(topLevel: false);
        }
        var start = _pos;
        while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '.' or '-' or '_'))
        {
            Advance();
        }
        var word = text[start.._pos];
        if (word.Length == 0)
        {
            Fail($"Unknown token: {_line}:{_col} ILLEGAL");
            return null;
        }
        if (word is "true" or "false")
        {
            return JsonValue.Create(word == "true");
        }
        if (double.TryParse(word, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(word);
    }

    private string? ReadKey()
    {
        if (text[_pos] == '"')
        {
            return ReadString();
        }
        var start = _pos;
        while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '_' or '-' or '.'))
        {
            Advance();
        }
        if (start == _pos)
        {
            Fail($"illegal char '{text[_pos]}'");
            return null;
        }
        return text[start.._pos];
    }

    private string? ReadString()
    {
        Advance();
        var sb = new StringBuilder();
        while (_pos < text.Length)
        {
            var c = text[_pos];
            if (c == '"')
            {
                Advance();
                return sb.ToString();
            }
            if (c == '\n')
            {
                break;
            }
            if (c == '\\' && _pos + 1 < text.Length)
            {
                Advance();
                var e = text[_pos];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', _ => e });
                Advance();
                continue;
            }
            sb.Append(c);
            Advance();
        }
        Fail("literal not terminated");
        return null;
    }

    private void SkipTrivia()
    {
        while (_pos < text.Length)
        {
            var c = text[_pos];
            if (char.IsWhiteSpace(c))
            {
                Advance();
            }
            else if (c == '#' || (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '/'))
            {
                while (_pos < text.Length && text[_pos] != '\n')
                {
                    Advance();
                }
            }
            else if (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '*')
            {
                Advance();
                Advance();
                while (_pos < text.Length && !(text[_pos] == '*' && _pos + 1 < text.Length && text[_pos + 1] == '/'))
                {
                    Advance();
                }
                Advance();
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private void Advance()
    {
        if (_pos < text.Length && text[_pos] == '\n')
        {
            _line++;
            _col = 1;
        }
        else
        {
            _col++;
        }
        _pos++;
    }

    private JsonObject? Fail(string message)
    {
        if (Error.Length == 0)
        {
            // HCL reports an unexpected EOF one column past the end of the text.
            var col = _pos >= text.Length ? _col + 1 : _col;
            Error = $"At {_line}:{col}: {message}";
        }
        return null;
    }
}

/// <summary>The merged rules of a token's policies, answering "what may this token do on this path".</summary>
internal sealed class Acl
{
    private readonly bool _root;
    private readonly Dictionary<string, Caps> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Pattern, Caps Caps)> _wild = [];
    private readonly Dictionary<string, List<string>> _eventTypes = new(StringComparer.Ordinal);

    public Acl(IEnumerable<Policy> policies)
    {
        var merged = new Dictionary<string, Caps>(StringComparer.Ordinal);
        foreach (var p in policies)
        {
            if (p.Name == "root")
            {
                _root = true;
            }
            foreach (var r in p.Rules)
            {
                merged[r.Pattern] = merged.GetValueOrDefault(r.Pattern) | r.Caps;
                if (r.SubscribeEventTypes is { } types)
                {
                    if (!_eventTypes.TryGetValue(r.Pattern, out var list))
                    {
                        _eventTypes[r.Pattern] = list = [];
                    }
                    list.AddRange(types);
                }
            }
        }
        foreach (var (pattern, caps) in merged)
        {
            var c = caps.HasFlag(Caps.Deny) ? Caps.Deny : caps;
            if (pattern.EndsWith('*') || pattern.Contains('+', StringComparison.Ordinal))
            {
                _wild.Add((pattern, c));
            }
            else
            {
                _exact[pattern] = c;
            }
        }
        // Most specific first, so the first match wins.
        _wild.Sort((a, b) => Compare(b.Pattern, a.Pattern));
    }

    public bool IsRoot => _root;

    public Caps Capabilities(string path)
    {
        if (_root)
        {
            return Caps.Root | Caps.Create | Caps.Read | Caps.Update | Caps.Delete | Caps.List | Caps.Sudo | Caps.Subscribe;
        }
        return Rule(path).Caps;
    }

    /// <summary>
    /// Vault 1.16+: the event types (globs) that the rule governing <paramref name="path"/> lets this token receive
    /// (<c>subscribe_event_types</c>); empty when none. Root may receive every type.
    /// </summary>
    public IReadOnlyList<string> SubscribeEventTypes(string path) =>
        _root ? ["*"] : Rule(path).Pattern is { } pattern && _eventTypes.TryGetValue(pattern, out var types) ? types : [];

    /// <summary>The rule that governs the path: the exact one, else the most specific matching wildcard.</summary>
    private (string? Pattern, Caps Caps) Rule(string path)
    {
        if (_exact.TryGetValue(path, out var caps))
        {
            return (path, caps);
        }
        foreach (var (pattern, c) in _wild)
        {
            if (Matches(pattern, path))
            {
                return (pattern, c);
            }
        }
        return (null, Caps.None);
    }

    /// <summary>
    /// Vault's <c>hasMountAccess</c>, the preflight of <c>sys/internal/ui/mounts</c>: true when the token may do
    /// anything at all on the mount path itself or on some path under it (a deny grants nothing).
    /// </summary>
    public bool HasMountAccess(string mountPath)
    {
        if (_root)
        {
            return true;
        }
        if (Grants(Capabilities(mountPath)))
        {
            return true;
        }
        if (_exact.Any(r => r.Key.StartsWith(mountPath, StringComparison.Ordinal) && Grants(r.Value)))
        {
            return true;
        }
        var mountSegments = mountPath.TrimEnd('/').Split('/');
        foreach (var (pattern, caps) in _wild)
        {
            if (!Grants(caps))
            {
                continue;
            }
            if (!pattern.Contains('+', StringComparison.Ordinal))
            {
                if (pattern[..^1].StartsWith(mountPath, StringComparison.Ordinal))
                {
                    return true;
                }
                continue;
            }
            // A segment wildcard path counts when its first segments could match the mount's.
            var segments = pattern.Split('/');
            var could = true;
            for (var i = 0; i < mountSegments.Length && could; i++)
            {
                if (i >= segments.Length)
                {
                    could = false;
                }
                else if (i == segments.Length - 1 && segments[i].EndsWith('*'))
                {
                    could = mountSegments[i].StartsWith(segments[i][..^1], StringComparison.Ordinal);
                    break;
                }
                else
                {
                    could = segments[i] == "+" || segments[i] == mountSegments[i];
                }
            }
            if (could)
            {
                return true;
            }
        }
        return false;
    }

    private static bool Grants(Caps caps) =>
        !caps.HasFlag(Caps.Deny) && (caps & (Caps.Create | Caps.Read | Caps.Update | Caps.Delete | Caps.List | Caps.Sudo)) != 0;

    /// <summary>Vault's priority between two matching wildcard paths: positive when a is more specific.</summary>
    private static int Compare(string a, string b)
    {
        static int FirstWildcard(string p)
        {
            var i = p.IndexOfAny(['*', '+']);
            return i < 0 ? p.Length : i;
        }
        var c = FirstWildcard(a).CompareTo(FirstWildcard(b));
        if (c != 0)
        {
            return c;
        }
        c = (!a.EndsWith('*')).CompareTo(!b.EndsWith('*'));
        if (c != 0)
        {
            return c;
        }
        c = b.Count(ch => ch == '+').CompareTo(a.Count(ch => ch == '+'));
        if (c != 0)
        {
            return c;
        }
        c = a.Length.CompareTo(b.Length);
        return c != 0 ? c : string.CompareOrdinal(a, b);
    }

    /// <summary>Glob match: <c>+</c> is exactly one path segment, a trailing <c>*</c> is any suffix.</summary>
    public static bool Matches(string pattern, string path)
    {
        var glob = pattern.EndsWith('*');
        var prefix = glob ? pattern[..^1] : pattern;
        var ps = prefix.Split('/');
        var xs = path.Split('/');
        if (!glob && ps.Length != xs.Length)
        {
            return false;
        }
        if (xs.Length < ps.Length)
        {
            return false;
        }
        for (var i = 0; i < ps.Length; i++)
        {
            var last = i == ps.Length - 1;
            if (ps[i] == "+")
            {
                continue;
            }
            if (last && glob)
            {
                if (!xs[i].StartsWith(ps[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }
            else if (ps[i] != xs[i])
            {
                return false;
            }
        }
        return true;
    }
}
