using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.GoCompat;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.DevVault;

/// <summary>
/// The whole in-memory Vault: state plus the request pipeline. Handlers run under one lock (state is small and
/// handlers never wait), while reading the body and writing the response happen outside it.
/// </summary>
internal sealed partial class VaultCore
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Indented = false, SkipValidation = true };
    private static readonly byte[] s_emptyErrors = "{\"errors\":[]}"u8.ToArray();

    private readonly object _sync = new();
    private readonly DevVaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;

    public VaultCore(DevVaultOptions options, DevVaultFaults faults)
    {
        _options = options;
        _time = options.TimeProvider;
        Faults = faults;
        _logger = options.LoggerFactory?.CreateLogger("Gatehouse.DevVault.DevVaultServer");
        ClusterName = "vault-cluster-" + Ids.Hex(4);
        ClusterId = Ids.Uuid();
        UnsealKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        InitMounts();
        InitPolicies();
        InitRootToken(options.RootTokenId);
    }

    public DevVaultFaults Faults { get; }
    public string ClusterName { get; }
    public string ClusterId { get; }
    public string UnsealKey { get; }
    public bool Sealed { get; set; }

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>The request pipeline (numbered as Vault's http layer runs it).</summary>
    public async Task HandleAsync(HttpContext ctx)
    {
        // 0. An emulated ingress in front routes by Host; what it does not route never reaches Vault.
        if (_options.IngressHost is { } ingress && !ctx.Request.Host.Host.Equals(ingress, StringComparison.OrdinalIgnoreCase))
        {
            await WriteIngressNotFoundAsync(ctx).ConfigureAwait(false);
            return;
        }

        // 1. Go's view of the path: the request-target as sent, percent-decoded whole (Kestrel's Request.Path has
        //    already resolved dot segments and keeps %2F, so it cannot tell what Vault would see).
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path + ctx.Request.QueryString;
        var (rawPath, rawQuery, forceQuery) = GoPath.Split(target);
        var pathDecoded = GoPath.TryUnescape(rawPath, out var path);

        // 2. Fault injection and counting.
        if (Faults.RecordRequests)
        {
            Faults.Arrive(new ArrivedRequest(ctx.Request.Method, target, ClientToken(ctx)));
        }
        Faults.Count(ctx.Request.Method, pathDecoded ? path : rawPath);
        if (Faults.DropConnections)
        {
            ctx.Abort();
            return;
        }
        var delay = Faults.ResponseDelay;
        if (delay > TimeSpan.Zero)
        {
            // Real time on purpose: a FakeTimeProvider must not hold HTTP responses hostage.
            await Task.Delay(delay, ctx.RequestAborted).ConfigureAwait(false);
        }
        if (Faults.TryTakeFailure(out var failStatus, out var failMessage))
        {
            await WriteAsync(ctx, failMessage is null ? VaultResponse.Error(failStatus) : VaultResponse.Error(failStatus, failMessage), null).ConfigureAwait(false);
            return;
        }

        VaultResponse resp;
        string? index = null;
        try
        {
            var method = ctx.Request.Method;
            // 3. Go refuses a target it cannot decode before any handler runs.
            if (!pathDecoded)
            {
                await WriteGoBadRequestAsync(ctx, "400 Bad Request").ConfigureAwait(false);
                return;
            }
            // 4. Vault's outer handler: only /v1/ is routed; everything else is a bare 404 (before ServeMux).
            if (!path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                await WriteAsync(ctx, VaultResponse.NotFound(), null).ConfigureAwait(false);
                return;
            }
            // 5. Go's ServeMux answers an unclean path (//, /./, /../) with 301 to the cleaned one; CONNECT is exempt.
            if (method != "CONNECT" && GoPath.Clean(path) is var cleaned && cleaned != path)
            {
                await WriteRedirectAsync(ctx, GoPath.Location(cleaned, rawQuery, forceQuery)).ConfigureAwait(false);
                return;
            }
            // 5a. Vault 1.16+ serves event subscriptions at the HTTP layer, before logical routing (DevVault: if enabled).
            if (method == "GET" && IsEventSubscribe(path))
            {
                await HandleEventSubscribeAsync(ctx, path).ConfigureAwait(false);
                return;
            }
            if (method is not ("GET" or "PUT" or "POST" or "DELETE" or "LIST" or "HEAD" or "OPTIONS"))
            {
                await WriteAsync(ctx, VaultResponse.Error(405), null).ConfigureAwait(false);
                return;
            }
            var req = new VaultRequest { HttpMethod = method, Path = path[4..], Http = ctx, Now = Now };
            // 6. Body: size limit, then JSON (or form) parsing. Content-Type is otherwise ignored.
            var bodyError = await ReadBodyAsync(ctx, req).ConfigureAwait(false);
            if (bodyError is not null)
            {
                await WriteAsync(ctx, bodyError, null).ConfigureAwait(false);
                return;
            }
            req.Operation = method switch
            {
                "GET" => GoPath.QueryGet(rawQuery, "list") is { Length: > 0 } l && GoFormat.TryParseBool(l, out var list) && list ? "list" : "read",
                "HEAD" => "header", // Vault's logical.HeaderOperation: no backend implements it
                "LIST" => "list",
                "DELETE" => "delete",
                "OPTIONS" => "options",
                _ => "update",
            };
            if (ctx.Connection.ClientCertificate is { } cert)
            {
                req.ClientCertificate = cert;
            }
            // 7. What Vault routes: tests hold the proxy to it (which token reached which path).
            if (Faults.RecordRequests)
            {
                Faults.Route(new RoutedRequest(
                    method, req.Operation, req.Path, ctx.Request.Headers["X-Vault-Namespace"].FirstOrDefault() ?? "", ClientToken(ctx)));
            }
            lock (_sync)
            {
                resp = Process(req, out index);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger?.LogError(e, "DevVault request failed");
            resp = VaultResponse.Error(500, "internal error");
        }
        await WriteAsync(ctx, resp, index).ConfigureAwait(false);
    }

    private async Task<VaultResponse?> ReadBodyAsync(HttpContext ctx, VaultRequest req)
    {
        var limit = _options.MaxRequestSize;
        if (ctx.Request.ContentLength is long declared && declared > limit)
        {
            return VaultResponse.Error(413, "http: request body too large");
        }
        using var ms = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16384);
        try
        {
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + n > limit)
                {
                    return VaultResponse.Error(413, "http: request body too large");
                }
                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (ms.Length == 0)
        {
            return null;
        }
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        if (IsForm(ctx.Request.ContentType, bytes))
        {
            if (!TryParseForm(Encoding.UTF8.GetString(bytes), out var form))
            {
                return VaultResponse.BadRequest("error parsing form data");
            }
            req.Body = form;
            req.HasBody = true;
            return null;
        }
        try
        {
            if (bytes.Trim((byte)' ').IsEmpty)
            {
                return null;
            }
            var node = JsonNode.Parse(bytes);
            if (node is JsonObject o)
            {
                req.Body = o;
                req.HasBody = true;
                return null;
            }
            if (node is null)
            {
                return null;
            }
        }
        catch (JsonException)
        {
        }
        return VaultResponse.BadRequest("error parsing JSON");
    }

    /// <summary>
    /// Vault's <c>isForm</c>: the media type is application/x-www-form-urlencoded and the body does not start, after
    /// JSON whitespace, with <c>{</c> or <c>[</c> (Vault errs on the side of JSON).
    /// </summary>
    private static bool IsForm(string? contentType, ReadOnlySpan<byte> body)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var start = body.TrimStart(" \t\r\n"u8);
        return start.IsEmpty || start[0] is not ((byte)'{' or (byte)'[');
    }

    /// <summary>
    /// Go's <c>url.ParseQuery</c> as Vault uses it for a form body: <c>&amp;</c>-separated, <c>+</c> is a space, a bad
    /// escape fails the whole body, and repeated keys are joined with commas.
    /// </summary>
    private static bool TryParseForm(string text, out JsonObject form)
    {
        form = [];
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in text.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (!TryUnescapeQuery(eq < 0 ? pair : pair[..eq], out var key) || !TryUnescapeQuery(eq < 0 ? "" : pair[(eq + 1)..], out var value))
            {
                return false;
            }
            if (!values.TryGetValue(key, out var list))
            {
                values[key] = list = [];
            }
            list.Add(value);
        }
        foreach (var (k, v) in values)
        {
            form[k] = string.Join(',', v);
        }
        return true;
    }

    private static bool TryUnescapeQuery(string s, out string value) => GoPath.TryUnescape(s.Replace('+', ' '), out value);

    private static string? ClientToken(HttpContext ctx)
    {
        if (ctx.Request.Headers.TryGetValue("X-Vault-Token", out var t) && !StringValues.IsNullOrEmpty(t))
        {
            return t.ToString();
        }
        if (ctx.Request.Headers.Authorization is { Count: > 0 } auth)
        {
            var a = auth.ToString();
            if (a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return a[7..].Trim();
            }
        }
        return null;
    }

    private VaultResponse Process(VaultRequest req, out string? index)
    {
        index = null;
        var rel = req.Path;
        var http = req.Http;

        // Unauthenticated status endpoints answer even while sealed.
        switch (rel)
        {
            case "sys/health":
                return req.HttpMethod is "GET" or "HEAD" ? Health(req) : VaultResponse.Error(405);
            case "sys/seal-status":
                return req.HttpMethod is "GET" ? SealStatus() : VaultResponse.Error(405);
            case "sys/leader":
                return req.HttpMethod is "GET" ? Leader() : VaultResponse.Error(405);
            case "sys/init":
                return req.HttpMethod is "GET" ? new VaultResponse { Raw = new JsonObject { ["initialized"] = true } } : VaultResponse.Error(405);
            case "sys/unseal":
                return req.HttpMethod is "PUT" or "POST" ? Unseal(req) : VaultResponse.Error(405);
        }

        var token = ClientToken(http);
        req.ClientToken = token;
        if (Sealed)
        {
            return VaultResponse.Error(503, token is null ? "Vault is sealed" : "error performing token check: Vault is sealed");
        }
        if (req.Operation == "update" && rel.EndsWith('/'))
        {
            return VaultResponse.BadRequest("cannot write to a path ending in '/'");
        }

        // Wrapping TTL applies to any request, login included.
        if (http.Request.Headers.TryGetValue("X-Vault-Wrap-TTL", out var wrapHeader) && !StringValues.IsNullOrEmpty(wrapHeader))
        {
            if (!GoDuration.TryParseSeconds(wrapHeader.ToString(), out var wrapTtl, out var err))
            {
                return VaultResponse.BadRequest("error parsing X-Vault-Wrap-TTL header: " + err);
            }
            req.WrapTtl = wrapTtl;
            req.WrapFormat = http.Request.Headers["X-Vault-Wrap-Format"].ToString();
        }

        var consistencyError = CheckConsistency(req);
        if (consistencyError is not null)
        {
            return consistencyError;
        }

        VaultResponse resp;
        if (rel == "sys/wrapping/lookup")
        {
            resp = MaybeWrap(req, WrappingLookup(req));
        }
        else if (rel == "sys/wrapping/unwrap")
        {
            resp = MaybeWrap(req, Unwrap(req));
        }
        else if (IsUiMounts(rel))
        {
            resp = MaybeWrap(req, UiMounts(req, token));
        }
        else if (TryLogin(req, out var loginResp))
        {
            resp = MaybeWrap(req, loginResp!);
        }
        else
        {
            if (token is null)
            {
                return VaultResponse.BadRequest("missing client token");
            }
            var te = LookupToken(token);
            if (te is null)
            {
                return VaultResponse.BadToken();
            }
            if (te.IsWrapping)
            {
                // A wrapping token used as an ordinary token is spent, and its response lost.
                RevokeToken(te.Id, orphanChildren: false);
                return VaultResponse.PermissionDenied();
            }
            var exhausted = false;
            if (te.UsesLimited)
            {
                te.NumUses--;
                exhausted = te.NumUses <= 0;
            }
            req.Token = te;
            req.Acl = AclFor(te);
            resp = Route(req);
            resp = MaybeWrap(req, resp);
            if (exhausted)
            {
                RevokeToken(te.Id, orphanChildren: false);
            }
        }
        index = ConsistencyIndex(req, resp);
        return resp;
    }

    private VaultResponse Route(VaultRequest req)
    {
        var rel = req.Path;
        var mount = FindMount(rel);
        if (mount is null)
        {
            return VaultResponse.Error(404, $"no handler for route '{rel}'");
        }
        var sub = rel.Length > mount.FullPath.Length ? rel[mount.FullPath.Length..] : "";
        if (req.Operation == "update" && !ExistsForWrite(mount, sub, req))
        {
            req.Operation = "create";
        }
        var aclPath = req.Operation == "list" && !rel.EndsWith('/') ? rel + "/" : rel;
        if (!Allowed(req, aclPath))
        {
            return VaultResponse.PermissionDenied();
        }
        if (mount.Type != "system" && CheckQuota(rel) is { } limited)
        {
            return limited;
        }
        // HEAD and OPTIONS pass the policy check only for root (no capability grants them), and then no backend has them.
        if (req.Operation is "header" or "options")
        {
            return VaultResponse.UnsupportedOperation();
        }
        return mount.Type switch
        {
            "system" => HandleSys(req, rel["sys/".Length..]),
            "token" => HandleToken(req, sub),
            "kv" when _options.LeasedKv && mount.Path == "secret/" => HandleKv1(req, mount, sub, leased: true),
            "kv" => mount.KvVersion == 2 ? HandleKv2(req, mount, sub) : HandleKv1(req, mount, sub, leased: false),
            "cubbyhole" => HandleKv1(req, mount, (req.Token?.Accessor ?? "") + "/" + sub, leased: false),
            "approle" => HandleAppRole(req, mount, sub),
            "jwt" or "oidc" or "kubernetes" => HandleJwt(req, mount, sub),
            "cert" => HandleCert(req, mount, sub),
            "ldap" => HandleLdap(req, mount, sub),
            "kerberos" => HandleKerberos(req, mount, sub),
            "azure" => HandleAzure(req, mount, sub),
            "aws" => HandleAws(req, mount, sub),
            "gcp" => HandleGcp(req, mount, sub),
            "oci" => HandleOci(req, mount, sub),
            "cf" or "pcf" => HandleCf(req, mount, sub),
            "alicloud" => HandleAlicloud(req, mount, sub),
            "transit" => HandleTransit(req, mount, sub),
            "pki" => HandlePki(req, mount, sub),
            "totp" => HandleTotp(req, mount, sub),
            _ => VaultResponse.UnsupportedPath(),
        };
    }

    private static readonly string[] s_sudoPrefixes =
    [
        "sys/seal", "sys/leases/revoke-prefix/", "sys/leases/revoke-force/", "sys/revoke-prefix/", "sys/revoke-force/",
        "auth/token/revoke-orphan", "auth/token/accessors", "sys/auth/", "sys/audit", "sys/raw", "sys/rotate",
    ];

    private static bool Allowed(VaultRequest req, string path)
    {
        var caps = req.Acl!.Capabilities(path);
        if (caps.HasFlag(Caps.Root))
        {
            return true;
        }
        if (caps.HasFlag(Caps.Deny))
        {
            return false;
        }
        var need = req.Operation switch
        {
            "read" => Caps.Read,
            "list" => Caps.List,
            "create" => Caps.Create,
            "update" => Caps.Update,
            "delete" => Caps.Delete,
            _ => Caps.Root,
        };
        if ((caps & need) == 0)
        {
            return false;
        }
        if (path == "sys/auth" || path == "sys/auth/")
        {
            return true;
        }
        foreach (var p in s_sudoPrefixes)
        {
            if (path.StartsWith(p, StringComparison.Ordinal) && !caps.HasFlag(Caps.Sudo))
            {
                return false;
            }
        }
        return true;
    }

    private bool ExistsForWrite(Mount mount, string sub, VaultRequest req) => mount.Type switch
    {
        "kv" when mount.KvVersion == 2 && !(_options.LeasedKv && mount.Path == "secret/") => Kv2Exists(mount, sub),
        "kv" => Kv1Store(mount).ContainsKey(sub),
        "cubbyhole" => Kv1Store(mount).ContainsKey((req.Token?.Accessor ?? "") + "/" + sub),
        _ => true,
    };

    // ---- response writing -------------------------------------------------------------------------------

    private async Task WriteAsync(HttpContext ctx, VaultResponse resp, string? index)
    {
        var r = ctx.Response;
        r.StatusCode = resp.Status;
        r.Headers.CacheControl = "no-store";
        r.Headers.ContentType = "application/json";
        if (index is not null)
        {
            r.Headers["X-Vault-Index"] = index;
        }
        if (resp.NoBody || ctx.Request.Method == "HEAD")
        {
            r.ContentLength = 0;
            return;
        }
        byte[] bytes;
        if (resp.Prebuilt is not null)
        {
            bytes = resp.Prebuilt;
        }
        else if (resp.Errors is { Count: 0 })
        {
            bytes = s_emptyErrors;
        }
        else
        {
            bytes = Serialize(resp);
        }
        r.ContentLength = bytes.Length;
        await r.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// What Go's <c>http.Redirect</c> writes for ServeMux: Location, an HTML link for GET (Content-Type for GET and
    /// HEAD), nothing for other methods. Cache-Control comes from Vault's outer handler, which runs first.
    /// </summary>
    private static async Task WriteRedirectAsync(HttpContext ctx, string location)
    {
        var r = ctx.Response;
        var method = ctx.Request.Method;
        r.StatusCode = StatusCodes.Status301MovedPermanently;
        r.Headers.CacheControl = "no-store";
        r.Headers.Location = location;
        if (method is "GET" or "HEAD")
        {
            r.ContentType = "text/html; charset=utf-8";
        }
        if (method != "GET")
        {
            r.ContentLength = 0;
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(GoPath.RedirectBody(location));
        r.ContentLength = bytes.Length;
        await r.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>ingress-nginx's default backend: the answer for a Host no ingress rule names.</summary>
    private static async Task WriteIngressNotFoundAsync(HttpContext ctx)
    {
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status404NotFound;
        r.ContentType = "text/plain; charset=utf-8";
        var bytes = "default backend - 404"u8.ToArray();
        r.ContentLength = bytes.Length;
        await r.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Go's answer to a request it cannot read: plain text, and the connection is closed.</summary>
    private static async Task WriteGoBadRequestAsync(HttpContext ctx, string text)
    {
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status400BadRequest;
        r.ContentType = "text/plain; charset=utf-8";
        r.Headers.Connection = "close";
        var bytes = Encoding.ASCII.GetBytes(text);
        r.ContentLength = bytes.Length;
        await r.Body.WriteAsync(bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    internal static byte[] Serialize(VaultResponse resp)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            if (resp.Errors is not null)
            {
                w.WriteStartObject();
                w.WriteStartArray("errors");
                foreach (var e in resp.Errors)
                {
                    w.WriteStringValue(e);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else if (resp.Raw is not null)
            {
                resp.Raw.WriteTo(w);
            }
            else
            {
                WriteEnvelope(w, resp);
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteEnvelope(Utf8JsonWriter w, VaultResponse resp)
    {
        w.WriteStartObject();
        if (resp.TopLevel is not null)
        {
            foreach (var (k, v) in resp.TopLevel)
            {
                w.WritePropertyName(k);
                WriteNode(w, v);
            }
        }
        w.WriteString("request_id", resp.RequestId);
        w.WriteString("lease_id", resp.LeaseId);
        w.WriteBoolean("renewable", resp.Renewable);
        w.WriteNumber("lease_duration", resp.LeaseDuration);
        w.WritePropertyName("data");
        WriteNode(w, resp.Data);
        w.WritePropertyName("wrap_info");
        if (resp.Wrap is { } wi)
        {
            w.WriteStartObject();
            w.WriteString("token", wi.Token);
            w.WriteString("accessor", wi.Accessor);
            w.WriteNumber("ttl", wi.Ttl);
            w.WriteString("creation_time", Ids.Time(wi.CreationTime));
            w.WriteString("creation_path", wi.CreationPath);
            if (wi.WrappedAccessor is not null)
            {
                w.WriteString("wrapped_accessor", wi.WrappedAccessor);
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteNullValue();
        }
        w.WritePropertyName("warnings");
        if (resp.Warnings is { Count: > 0 })
        {
            w.WriteStartArray();
            foreach (var s in resp.Warnings)
            {
                w.WriteStringValue(s);
            }
            w.WriteEndArray();
        }
        else
        {
            w.WriteNullValue();
        }
        w.WritePropertyName("auth");
        if (resp.Auth is { } a)
        {
            w.WriteStartObject();
            w.WriteString("client_token", a.ClientToken);
            w.WriteString("accessor", a.Accessor);
            w.WriteStartArray("policies");
            foreach (var p in a.Policies)
            {
                w.WriteStringValue(p);
            }
            w.WriteEndArray();
            w.WriteStartArray("token_policies");
            foreach (var p in a.Policies)
            {
                w.WriteStringValue(p);
            }
            w.WriteEndArray();
            w.WritePropertyName("metadata");
            WriteStringMap(w, a.Metadata);
            w.WriteNumber("lease_duration", a.LeaseDuration);
            w.WriteBoolean("renewable", a.Renewable);
            w.WriteString("entity_id", a.EntityId);
            w.WriteString("token_type", a.TokenType);
            w.WriteBoolean("orphan", a.Orphan);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNullValue();
        }
        w.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter w, JsonNode? node)
    {
        if (node is null)
        {
            w.WriteNullValue();
        }
        else
        {
            node.WriteTo(w);
        }
    }

    internal static void WriteStringMap(Utf8JsonWriter w, Dictionary<string, string>? map)
    {
        if (map is null || map.Count == 0)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteString(k, v);
        }
        w.WriteEndObject();
    }

    internal static JsonNode? StringMapNode(Dictionary<string, string>? map)
    {
        if (map is null || map.Count == 0)
        {
            return null;
        }
        var o = new JsonObject();
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            o[k] = v;
        }
        return o;
    }

    internal static JsonArray StringArray(IEnumerable<string> items)
    {
        var a = new JsonArray();
        foreach (var i in items)
        {
            a.Add((JsonNode?)JsonValue.Create(i)); // the JsonNode overload: Add<T>(T) needs reflection a Native AOT build lacks
        }
        return a;
    }

    internal static JsonObject KeysData(IEnumerable<string> keys) => new() { ["keys"] = StringArray(keys) };

    /// <summary>Direct children of a prefix among keys: "a" for "prefix/a", "b/" for "prefix/b/c".</summary>
    internal static List<string> ListChildren(IEnumerable<string> keys, string prefix)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            if (!k.StartsWith(prefix, StringComparison.Ordinal) || k.Length == prefix.Length)
            {
                continue;
            }
            var rest = k[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            set.Add(slash < 0 ? rest : rest[..(slash + 1)]);
        }
        return [.. set];
    }
}
