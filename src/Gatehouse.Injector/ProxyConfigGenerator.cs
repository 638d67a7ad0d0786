using System.Text;
using System.Text.Json;
using Gatehouse.Configuration;
using Gatehouse.Hcl;

namespace Gatehouse.Injector;

/// <summary>
/// Writes the sidecar's Vault Proxy configuration (Vault's JSON form) for one <see cref="InjectionSpec"/>, then binds
/// and validates it with the daemon's own configuration model (<see cref="ConfigLoader"/>), so a pod is admitted only
/// with a configuration <c>gatehouse validate</c> accepts. The text travels in the pod's
/// <see cref="Annotations.Config"/> annotation and reaches the sidecar as a file through a downward-API volume.
/// </summary>
internal static class ProxyConfigGenerator
{
    public const string TcpListenerAddress = "127.0.0.1:8100";

    /// <summary>The configuration text, or null with the validator's problems added to <paramref name="problems"/>.</summary>
    public static string? Generate(InjectionSpec spec, InjectorOptions options, List<string> problems)
    {
        var text = Write(spec, options);
        var tree = HclJsonParser.Parse(text, Annotations.Config);
        var result = ConfigLoader.FromTree(tree, Annotations.Config);
        if (result.Succeeded)
            return text;

        problems.AddRange(result.Diagnostics.Select(d => $"the generated configuration is not valid: {d}"));
        return null;
    }

    public static string Write(InjectionSpec spec, InjectorOptions options)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();

            json.WriteStartObject("vault");
            json.WriteString("address", spec.VaultAddress);
            if (spec.VaultNamespace is not null)
                json.WriteString("namespace", spec.VaultNamespace);
            if (spec.CaCert is not null)
                json.WriteString("ca_cert", spec.CaCert);
            json.WriteEndObject();

            json.WriteStartObject("auto_auth");
            json.WriteStartArray("method");
            json.WriteStartObject();
            json.WriteString("type", spec.AuthMethod == AuthMethodKind.AppRole ? "approle" : "kubernetes");
            json.WriteString("mount_path", spec.AuthPath);
            json.WriteStartObject("config");
            if (spec.AuthMethod == AuthMethodKind.AppRole)
            {
                json.WriteString("role_id_file_path", $"{PodPatcher.AppRoleMountPath}/role-id");
                json.WriteString("secret_id_file_path", $"{PodPatcher.AppRoleMountPath}/secret-id");
                // The Secret volume is read-only, and the secret_id must survive a sidecar restart.
                json.WriteBoolean("remove_secret_id_file_after_reading", false);
            }
            else
            {
                json.WriteString("role", spec.Role);
                json.WriteString("token_path", $"{PodPatcher.TokenMountPath}/token");
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartObject("api_proxy");
            if (spec.UseAutoAuthToken == "force")
                json.WriteString("use_auto_auth_token", "force");
            else
                json.WriteBoolean("use_auto_auth_token", spec.UseAutoAuthToken == "true");
            json.WriteEndObject();

            if (spec.Cache)
            {
                json.WriteStartObject("cache");
                json.WriteNumber("max_bytes", options.CacheMaxBytes);
                json.WriteEndObject();
            }

            json.WriteStartArray("listener");
            json.WriteStartObject();
            if (spec.Listener == ListenerKind.Unix)
            {
                json.WriteString("type", "unix");
                json.WriteString("address", PodPatcher.SocketPath);
                // Any user of the pod may connect: the socket lives in an emptyDir only this pod's containers mount,
                // and they run as users of their own.
                json.WriteString("socket_mode", "0666");
            }
            else
            {
                json.WriteString("type", "tcp");
                json.WriteString("address", TcpListenerAddress);
            }

            json.WriteBoolean("tls_disable", true);
            json.WriteEndObject();
            json.WriteEndArray();

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
