using Gatehouse.Configuration;
using static Gatehouse.Tests.Configuration.ConfigTestSupport;

namespace Gatehouse.Tests.Configuration;

/// <summary>
/// One fixture per rule. Each asserts the single diagnostic's place and that its message begins with the exact
/// wording (Vault's own where Vault has a message), so users can search for it.
/// </summary>
public sealed class ConfigValidationRuleTests
{
    [Theory]
    [InlineData("cache-no-listeners.hcl", "1:1: cache: enabling the cache requires at least 1 listener to be defined")]
    [InlineData("api-proxy-no-listeners.hcl", "1:1: api_proxy: configuring the api_proxy requires at least 1 listener to be defined")]
    [InlineData("api-proxy-auto-auth-token-without-auto-auth.hcl", "1:1: api_proxy.use_auto_auth_token: api_proxy.use_auto_auth_token is true but auto_auth not configured")]
    [InlineData("cache-auto-auth-token-without-auto-auth.hcl", "1:1: cache.use_auto_auth_token: cache.use_auto_auth_token is true but auto_auth not configured")]
    [InlineData("auto-auth-token-with-method-wrapping.hcl", "2:3: api_proxy.use_auto_auth_token: api_proxy.use_auto_auth_token is true and auto_auth uses wrapping")]
    [InlineData("auto-auth-token-in-api-proxy-and-cache.hcl", "2:25: cache.use_auto_auth_token: use_auto_auth_token defined in both api_proxy and cache config. Please remove this configuration from the cache block")]
    [InlineData("enforce-consistency-in-api-proxy-and-cache.hcl", "2:25: cache.enforce_consistency: enforce_consistency configured in both api_proxy and cache blocks. Please remove this configuration from the cache block.")]
    [InlineData("when-inconsistent-in-api-proxy-and-cache.hcl", "2:23: cache.when_inconsistent: when_inconsistent configured in both api_proxy and cache blocks. Please remove this configuration from the cache block.")]
    [InlineData("auto-auth-without-sinks.hcl", "1:1: auto_auth: auto_auth requires at least one sink or api_proxy.use_auto_auth_token=true")]
    [InlineData("nothing-to-do.hcl", "nothing-to-do.hcl: no auto_auth, cache, or listener block found in config")]
    [InlineData("method-wrapping-with-two-sinks.hcl", "2:3: auto_auth: wrapping enabled on auth method and 0 or many sinks defined")]
    [InlineData("method-and-sink-wrapping.hcl", "2:3: auto_auth: wrapping enabled both on auth method and sink")]
    [InlineData("auto-auth-without-method.hcl", "1:1: auto_auth: one and only one \"method\" block is required")]
    [InlineData("auto-auth-with-two-methods.hcl", "5:3: auto_auth: one and only one \"method\" block is required")]
    [InlineData("method-type-missing.hcl", "2:3: auto_auth.method: method type must be specified")]
    [InlineData("two-auto-auth-blocks.hcl", "13:1: auto_auth: at most one \"auto_auth\" block is allowed")]
    [InlineData("sink-type-missing.hcl", "5:3: auto_auth.sink: sink type must be specified")]
    [InlineData("sink-type-unknown.hcl", "5:3: auto_auth.sink \"socket\": Unknown sink type \"socket\"")]
    [InlineData("sink-dh-type-invalid.hcl", "5:3: auto_auth.sink \"file\": invalid value for 'dh_type'")]
    [InlineData("sink-dh-type-without-dh-path.hcl", "5:3: auto_auth.sink \"file\": 'dh_type' and 'dh_path' must be specified together")]
    [InlineData("sink-aad-without-dh-type.hcl", "5:3: auto_auth.sink \"file\": specifying AAD data without 'dh_type' does not make sense")]
    [InlineData("sink-derive-key-without-dh-type.hcl", "5:3: auto_auth.sink \"file\": specifying 'derive_key' data without 'dh_type' does not make sense")]
    [InlineData("two-vault-blocks.hcl", "4:1: vault: one and only one \"vault\" block is required")]
    [InlineData("two-api-proxy-blocks.hcl", "2:1: api_proxy: one and only one \"api_proxy\" block is required")]
    [InlineData("two-cache-blocks.hcl", "2:1: cache: one and only one \"cache\" block is required")]
    [InlineData("two-retry-blocks.hcl", "3:3: vault.retry: one and only one \"retry\" block is required")]
    [InlineData("two-persist-blocks.hcl", "3:3: cache: only one \"persist\" block is required")]
    [InlineData("persist-type-missing.hcl", "2:3: cache.persist: persist type must be specified")]
    [InlineData("persist-type-unsupported.hcl", "2:3: cache.persist \"aws\": persistent key protection type \"aws\" not supported")]
    [InlineData("persist-path-missing.hcl", "2:3: cache.persist \"kubernetes\": must specify persistent cache path")]
    [InlineData("use-auto-auth-token-invalid.hcl", "2:25: api_proxy.use_auto_auth_token: value of 'use_auto_auth_token' can be either true/false/force, \"sometimes\" is an invalid option")]
    [InlineData("disable-idle-connections-unknown.hcl", "1:42: disable_idle_connections: unknown disable_idle_connections value: everything")]
    [InlineData("disable-keep-alives-unknown.hcl", "1:24: disable_keep_alives: unknown disable_keep_alives value: proxy")]
    [InlineData("listener-type-missing.hcl", "1:1: listeners.0: listener type must be specified")]
    [InlineData("listener-type-unsupported.hcl", "1:1: listeners.0: unsupported listener type \"udp\"")]
    [InlineData("listener-role-unsupported.hcl", "3:10: listener \"tcp\".role: unsupported listener role \"admin\"")]
    [InlineData("listener-require-request-header-invalid.hcl", "3:28: listener \"tcp\".require_request_header: invalid value for require_request_header: expected a boolean, got \"yes\"")]
    [InlineData("enforce-consistency-invalid.hcl", "2:25: api_proxy.enforce_consistency: Unknown api_proxy setting for enforce_consistency: \"sometimes\"")]
    [InlineData("when-inconsistent-invalid.hcl", "2:23: api_proxy.when_inconsistent: Unknown api_proxy setting for when_inconsistent: \"forward-active-node\"")]
    [InlineData("min-backoff-not-below-max-backoff.hcl", "2:3: auto_auth.method \"approle\": min_backoff cannot be greater than max_backoff")]
    [InlineData("approle-without-role-id-file-path.hcl", "3:14: auto_auth.method \"approle\": missing 'role_id_file_path' value")]
    [InlineData("token-file-without-path.hcl", "2:3: auto_auth.method \"token_file\": missing 'token_file_path' value")]
    [InlineData("kubernetes-without-role.hcl", "3:14: auto_auth.method \"kubernetes\": missing 'role' value")]
    [InlineData("ldap-without-username.hcl", "3:14: auto_auth.method \"ldap\": missing 'username' value")]
    [InlineData("ldap-password-read-period-zero.hcl", "6:30: auto_auth.method \"ldap\".config.password_read_period: error parsing 'password_read_period' value into a positive value")]
    [InlineData("ldap-remove-password-not-a-bool.hcl", "6:39: auto_auth.method \"ldap\".config.remove_password_after_reading: ")]
    [InlineData("kerberos-without-realm.hcl", "3:14: auto_auth.method \"kerberos\": missing 'realm' value")]
    [InlineData("kerberos-disable-fast-not-a-bool.hcl", "9:34: auto_auth.method \"kerberos\".config.disable_fast_negotiation: ")]
    [InlineData("kerberos-remove-instance-name.hcl", "9:30: auto_auth.method \"kerberos\".config.remove_instance_name: remove_instance_name is read by `vault login -method=kerberos` only; Vault Agent/Proxy's kerberos method ignores it")]
    [InlineData("azure-without-role.hcl", "3:14: auto_auth.method \"azure\": missing 'role' value")]
    [InlineData("azure-without-resource.hcl", "3:14: auto_auth.method \"azure\": missing 'resource' value")]
    [InlineData("azure-resource-empty.hcl", "5:18: auto_auth.method \"azure\": missing 'resource' value")]
    [InlineData("azure-object-id-and-client-id.hcl", "7:19: auto_auth.method \"azure\".config: only one of 'object_id' or 'client_id' may be provided")]
    [InlineData("azure-authenticate-from-environment-not-a-bool.hcl", "6:39: auto_auth.method \"azure\".config.authenticate_from_environment: ")]
    [InlineData("gcp-without-type.hcl", "3:14: auto_auth.method \"gcp\": missing 'type' value")]
    [InlineData("gcp-without-role.hcl", "3:14: auto_auth.method \"gcp\": missing 'role' value")]
    [InlineData("gcp-type-invalid.hcl", "4:14: auto_auth.method \"gcp\".config.type: 'type' value is invalid: \"gke\"; use \"gce\" or \"iam\"")]
    [InlineData("gcp-iam-credentials-not-json.hcl", "7:25: auto_auth.method \"gcp\".config.credentials: credentials must be the JSON of a Google credentials file (such as a service account key) itself, not a path")]
    [InlineData("gcp-iam-jwt-exp-negative.hcl", "6:17: auto_auth.method \"gcp\".config.jwt_exp: jwt_exp must not be negative")]
    [InlineData("gcp-jwt-exp-not-an-integer.hcl", "6:17: auto_auth.method \"gcp\".config.jwt_exp: ")]
    [InlineData("file-sink-without-path.hcl", "6:14: auto_auth.sink \"file\": 'path' not specified for file sink")]
    [InlineData("file-sink-mode-invalid.hcl", "8:14: auto_auth.sink \"file\".config.mode: could not parse 'mode' as integer")]
    [InlineData("method-type-unknown.hcl", "2:3: auto_auth.method \"github\": unknown auth method \"github\"")]
    [InlineData("aws-without-type.hcl", "3:14: auto_auth.method \"aws\": missing 'type' value")]
    [InlineData("aws-without-role.hcl", "3:14: auto_auth.method \"aws\": missing 'role' value")]
    [InlineData("aws-type-invalid.hcl", "4:14: auto_auth.method \"aws\".config.type: 'type' value is invalid: \"ecs\"; use \"iam\" or \"ec2\"")]
    [InlineData("aws-access-key-without-secret-key.hcl", "6:20: auto_auth.method \"aws\".config: static AWS client credentials haven't been properly configured (the access key or secret key were provided but not both)")]
    [InlineData("aws-credential-poll-interval-zero.hcl", "6:34: auto_auth.method \"aws\".config.credential_poll_interval: credential_poll_interval must be a positive number of seconds")]
    [InlineData("aws-credential-poll-interval-duration.hcl", "6:34: auto_auth.method \"aws\".config.credential_poll_interval: ")]
    [InlineData("alicloud-without-role.hcl", "3:14: auto_auth.method \"alicloud\": missing 'role' value")]
    [InlineData("alicloud-without-region.hcl", "3:14: auto_auth.method \"alicloud\": missing 'region' value")]
    [InlineData("alicloud-region-invalid.hcl", "5:16: auto_auth.method \"alicloud\".config.region: regionId contains invalid characters")]
    [InlineData("alicloud-credential-poll-interval-quoted.hcl", "6:34: auto_auth.method \"alicloud\".config.credential_poll_interval: could not convert 'credential_poll_interval' config value to positive int")]
    [InlineData("alicloud-credential-poll-interval-zero.hcl", "6:34: auto_auth.method \"alicloud\".config.credential_poll_interval: could not convert 'credential_poll_interval' config value to positive int")]
    [InlineData("alicloud-access-key-without-secret.hcl", "6:20: auto_auth.method \"alicloud\".config.access_key: access_key and access_secret must be set together")]
    [InlineData("alicloud-role-arn-without-session.hcl", "8:23: auto_auth.method \"alicloud\".config.role_arn: role_arn is assumed only with access_key, access_secret, role_session_name and role_session_expiration all set")]
    [InlineData("alicloud-role-session-expiration-out-of-range.hcl", "10:33: auto_auth.method \"alicloud\".config.role_session_expiration: role_session_expiration must be 900–3600 seconds")]
    [InlineData("alicloud-key-pair-without-private-key.hcl", "6:23: auto_auth.method \"alicloud\".config.public_key_id: an RSA key pair needs private_key, public_key_id and session_expiration together")]
    [InlineData("alicloud-sts-endpoint-with-path.hcl", "7:22: auto_auth.method \"alicloud\".config.sts_endpoint: sts_endpoint must be an http or https URL with no path")]
    [InlineData("cf-without-role.hcl", "3:14: auto_auth.method \"cf\": missing 'role' value")]
    [InlineData("oci-without-type.hcl", "3:14: auto_auth.method \"oci\": missing 'type' value")]
    [InlineData("oci-without-role.hcl", "3:14: auto_auth.method \"oci\": missing 'role' value")]
    [InlineData("oci-type-invalid.hcl", "4:14: auto_auth.method \"oci\".config.type: 'type' value is invalid: \"resource\"; use \"apikey\" or \"instance\"")]
    [InlineData("oci-credential-poll-interval-zero.hcl", "6:34: auto_auth.method \"oci\".config.credential_poll_interval: credential_poll_interval must be positive")]
    [InlineData("oci-credential-poll-interval-invalid.hcl", "6:34: auto_auth.method \"oci\".config.credential_poll_interval: ")]
    [InlineData("oci-unknown-key.hcl", "6:7: auto_auth.method \"oci\".config: unknown key \"profile\"; valid keys here: type, role, credential_poll_interval")]
    [InlineData("agent-template-refused.hcl", "13:1: template: not supported by Gatehouse (Vault Agent templating)")]
    [InlineData("unknown-key-with-suggestion.hcl", "2:3: listener \"tcp\": unknown key \"adress\"; did you mean address?")]
    [InlineData("wrong-type.hcl", "3:17: listener \"tcp\".tls_disable: expected a boolean, got a list")]
    [InlineData("tls-listener-without-cert.hcl", "1:1: listener \"tcp\": 'tls_cert_file' must be set")]
    [InlineData("tls-require-and-disable-client-certs.hcl", "1:1: listener \"tcp\": 'tls_disable_client_certs' and 'tls_require_and_verify_client_cert' are mutually exclusive")]
    [InlineData("tls-min-version-invalid.hcl", "3:21: listener \"tcp\".tls_min_version: invalid tls_min_version \"tls14\"")]
    [InlineData("tls-max-version-invalid.hcl", "3:21: listener \"tcp\".tls_max_version: invalid tls_max_version \"ssl30\"; use tls10, tls11, tls12 or tls13")]
    [InlineData("cache-refresh-behavior-invalid.hcl", "2:53: cache.static_secret_token_capability_refresh_behavior: invalid value \"lazy\"; use \"pessimistic\" or \"optimistic\"")]
    [InlineData("log-level-invalid.hcl", "1:13: log_level: unknown log level: loud")]
    [InlineData("log-format-invalid.hcl", "1:14: log_format: unknown log format: xml; use standard or json")]
    [InlineData("log-rotate-bytes-negative.hcl", "1:20: log_rotate_bytes: log_rotate_bytes must not be negative")]
    [InlineData("log-rotate-max-files-invalid.hcl", "1:24: log_rotate_max_files: log_rotate_max_files must be -1 (keep no rotated files), 0 (keep all) or a positive count")]
    [InlineData("num-retries-below-minus-one.hcl", "3:19: vault.retry.num_retries: num_retries must be -1 (no retries), 0 (the default, 12) or more")]
    [InlineData("api-proxy-max-upstream-requests-zero.hcl", "6:27: api_proxy.max_upstream_requests: max_upstream_requests must be positive; use a number such as 256")]
    [InlineData("api-proxy-upstream-queue-timeout-zero.hcl", "6:28: api_proxy.upstream_queue_timeout: upstream_queue_timeout must be positive; use a duration such as 5s")]
    [InlineData("unavailable-budget-negative.hcl", "3:26: vault.retry.unavailable_budget: unavailable_budget must not be negative; use a duration such as 5s, or 0 to return Vault's 503 at once")]
    [InlineData("vault-address-not-a-url.hcl", "2:13: vault.address: invalid address \"not a url\": missing protocol scheme")]
    [InlineData("vault-address-unsupported-scheme.hcl", "2:13: vault.address: unsupported protocol scheme \"ftp\"")]
    [InlineData("vault-address-unix-socket.hcl", "2:13: vault.address: unix socket addresses (unix://) are not supported by Gatehouse yet")]
    [InlineData("vault-address-port-out-of-range.hcl", "2:13: vault.address: invalid address \"https://vault.example.com:99999\"")]
    [InlineData("vault-client-cert-without-key.hcl", "3:17: vault.client_cert: both client cert and client key must be provided")]
    [InlineData("unix-listener-without-cert.hcl", "1:1: listener \"unix\": 'tls_cert_file' must be set")]
    [InlineData("unix-listener-require-and-disable-client-certs.hcl", "1:1: listener \"unix\": 'tls_disable_client_certs' and 'tls_require_and_verify_client_cert' are mutually exclusive")]
    [InlineData("listener-port-out-of-range.hcl", "2:17: listener \"tcp\".address: invalid port \"70000\" in address \"127.0.0.1:70000\"")]
    [InlineData("listener-address-without-port.hcl", "2:17: listener \"tcp\".address: missing port in address \"127.0.0.1\"")]
    [InlineData("listener-host-invalid.hcl", "2:17: listener \"tcp\".address: invalid host \"not a host\" in address \"not a host:8200\"")]
    [InlineData("listeners-on-one-address.hcl", "6:17: listener \"tcp\".address: address already in use: listener \"tcp\" at listeners-on-one-address.hcl:1:1 already listens on 127.0.0.1:8200")]
    [InlineData("listeners-overlapping-wildcard.hcl", "6:17: listener \"tcp\".address: address already in use: listener \"tcp\" at listeners-overlapping-wildcard.hcl:1:1 already listens on 0.0.0.0:8200, which includes localhost:8200")]
    [InlineData("listeners-both-on-the-default-address.hcl", "4:1: listener \"tcp\".address: address already in use: listener \"tcp\" at listeners-both-on-the-default-address.hcl:1:1 already listens on 127.0.0.1:8200")]
    [InlineData("unix-listeners-on-one-path.hcl", "6:17: listener \"unix\".address: address already in use: listener \"unix\" at unix-listeners-on-one-path.hcl:1:1 already listens on /run/gatehouse/gatehouse.sock")]
    [InlineData("listener-cipher-suite-unknown.hcl", "5:23: listener \"tcp\".tls_cipher_suites: unknown cipher suite \"TLS_NO_SUCH_SUITE\"")]
    [InlineData("static-secrets-without-auto-auth.hcl", "1:1: cache.cache_static_secrets: cache.cache_static_secrets=true requires an auto-auth block configured, to use the token to connect with Vault's event system")]
    [InlineData("static-secret-capability-refresh-too-short.hcl", "1:1: cache.static_secret_token_capability_refresh_interval: static_secret_token_capability_refresh_interval must be at least 1s (got 500ms)")]
    [InlineData("static-secret-refresh-too-short.hcl", "1:1: cache.static_secret_refresh_interval: static_secret_refresh_interval must be 0 (no polling: Vault's event stream only) or at least 1s (got 200ms)")]
    [InlineData("otlp-traces-without-endpoint.hcl", "2:17: telemetry.otlp_traces: otlp_traces needs otlp_endpoint, the OTLP collector the spans are sent to")]
    [InlineData("no-cache-of-any-kind.hcl", "1:1: cache: to enable the cache, the cache must be configured to either cache static secrets or dynamic secrets")]
    [InlineData("auto-auth-paths-star-in-middle.hcl", "10:56: api_proxy.auto_auth_token_allow_paths: pattern \"secret/*/config\": \"*\" may only end a pattern")]
    [InlineData("auto-auth-paths-plus-star.hcl", "10:33: api_proxy.auto_auth_token_deny_paths: pattern \"secret/+*\": invalid use of wildcards ('+*' is forbidden, as in Vault policies)")]
    [InlineData("auto-auth-paths-listener-v1-prefix.hcl", "14:33: listener \"tcp\".auto_auth_token_deny_paths: pattern \"/v1/sys/*\": write paths as in a Vault policy, without /v1/: \"sys/*\"")]
    [InlineData("auto-auth-paths-without-auto-auth-token.hcl", "14:33: api_proxy.auto_auth_token_allow_paths: api_proxy.auto_auth_token_allow_paths has no effect: api_proxy.use_auto_auth_token is not set")]
    [InlineData("auto-auth-paths-on-metrics-only-listener.hcl", "19:33: listener \"tcp\".auto_auth_token_allow_paths: auto_auth_token_allow_paths has no effect on a listener with role \"metrics_only\"")]
    public void Fixture_BreakingOneRule_ReportsExactlyThatRuleAtItsPlace(string fixture, string expected)
    {
        var result = LoadFixture(fixture);

        Assert.False(result.Succeeded);
        var line = Assert.Single(Lines(result));
        var prefix = expected.StartsWith(fixture, StringComparison.Ordinal) ? expected : $"{fixture}:{expected}";
        Assert.StartsWith(prefix, line, StringComparison.Ordinal);
    }

    /// <summary>The socket's owner is looked up on this host, as the listener does when it starts (not on Windows).</summary>
    [Theory]
    [InlineData("listener-socket-user-unknown.hcl", "4:17: listener \"unix\".socket_user: socket_user \"no-such-user-gatehouse\" is not a known user on this host")]
    [InlineData("listener-socket-group-unknown.hcl", "4:18: listener \"unix\".socket_group: socket_group \"no-such-group-gatehouse\" is not a known group on this host")]
    public void UnixListener_SocketOwnerUnknownOnThisHost_IsReportedAtTheKey(string fixture, string expected)
    {
        if (OperatingSystem.IsWindows())
            return;

        Fixture_BreakingOneRule_ReportsExactlyThatRuleAtItsPlace(fixture, expected);
    }

    [Fact]
    public void UnixListener_SocketOwnerAsNumericIds_IsNotLookedUp()
    {
        Valid(FromHcl("listener \"unix\" {\n  address = \"/run/g.sock\"\n  tls_disable = true\n  socket_user = \"64123\"\n  socket_group = \"64124\"\n}\napi_proxy {}\n"));
    }

    [Fact]
    public void Listeners_OnEphemeralPorts_MayShareAHost()
    {
        Valid(FromHcl("listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\napi_proxy {}\n"));
    }

    [Fact]
    public void Listeners_OnOneHostWithDifferentPorts_OrOnDifferentHosts_AreFine()
    {
        Valid(FromHcl("""
            listener "tcp" {
              address = "0.0.0.0:8200"
              tls_disable = true
            }
            listener "tcp" {
              address = "127.0.0.1:8201"
              tls_disable = true
            }
            listener "tcp" {
              address = "127.0.0.2:8202"
              tls_disable = true
            }
            listener "tcp" {
              address = "127.0.0.3:8202"
              tls_disable = true
            }
            listener "tcp" {
              address = "[::1]:8200"
              tls_disable = true
            }
            api_proxy {}
            """));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8200")]
    [InlineData("https://vault.example.com")]
    [InlineData("HTTPS://Vault.Example.COM:8200/")]
    [InlineData("https://[::1]:8200")]
    [InlineData("https://vault.example.com:8200/prefix")]
    public void VaultAddress_HttpOrHttpsUrls_AreAccepted(string address)
    {
        Valid(FromHcl($"vault {{\n  address = \"{address}\"\n}}\nlistener \"tcp\" {{\n  tls_disable = true\n}}\napi_proxy {{}}\n"));
    }

    [Fact]
    public void VaultAddress_Empty_MeansTheDefault()
    {
        var config = Valid(FromHcl("vault {\n  address = \"\"\n}\nlistener \"tcp\" {\n  tls_disable = true\n}\napi_proxy {}\n"));

        Assert.Equal("https://127.0.0.1:8200", config.Vault.EffectiveAddress);
    }

    [Fact]
    public void RequiredPath_OfOnlySpaces_IsMissing_AsTheSinkFindsAtStart()
    {
        var lines = Lines(FromHcl("""
            auto_auth {
              method "token_file" {
                config = {
                  token_file_path = "  "
                }
              }
              sink "file" {
                config = {
                  path = "   "
                }
              }
            }
            """));

        Assert.Equal(2, lines.Count);
        Assert.StartsWith("test.hcl:4:25: auto_auth.method \"token_file\": missing 'token_file_path' value", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("test.hcl:9:14: auto_auth.sink \"file\": 'path' not specified for file sink", lines[1], StringComparison.Ordinal);
    }

    private const string PersistWithKeyFromEnvironment = """
        cache {
          persist "file" {
            path        = "/var/lib/gatehouse/cache"
            key_env_var = "GH_CACHE_KEY"
          }
        }
        listener "tcp" {
          tls_disable = true
        }
        """;

    [Theory]
    [InlineData(null, "test.hcl:4:19: cache.persist \"file\".key_env_var: the environment variable GH_CACHE_KEY (key_env_var) is not set or empty; set it to a base64-encoded 32-byte key")]
    [InlineData("not base64!", "test.hcl:4:19: cache.persist \"file\".key_env_var: the environment variable GH_CACHE_KEY (key_env_var) is not valid base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "test.hcl:4:19: cache.persist \"file\".key_env_var: the environment variable GH_CACHE_KEY (key_env_var) holds 16 bytes; it must be a base64-encoded 32-byte key")]
    public void PersistKeyFromTheEnvironment_ThatStartUpWouldRefuse_IsReportedAtKeyEnvVar(string? value, string expected)
    {
        var result = ConfigLoader.FromTree(
            Gatehouse.Hcl.HclParser.Parse(PersistWithKeyFromEnvironment, "test.hcl"), "test.hcl", name => name == "GH_CACHE_KEY" ? value : null);

        Assert.StartsWith(expected, Assert.Single(Lines(result)), StringComparison.Ordinal);
    }

    [Fact]
    public void PersistKeyFromTheEnvironment_A32ByteKey_IsValid()
    {
        var key = Convert.ToBase64String(new byte[32]);

        Valid(ConfigLoader.FromTree(
            Gatehouse.Hcl.HclParser.Parse(PersistWithKeyFromEnvironment, "test.hcl"), "test.hcl", name => name == "GH_CACHE_KEY" ? key : null));
    }

    [Fact]
    public void MethodWrapping_WithoutSinks_ReportsWrappingAndMissingSink()
    {
        var lines = Lines(LoadFixture("method-wrapping-without-sinks.hcl"));

        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.StartsWith("method-wrapping-without-sinks.hcl:1:1: auto_auth: auto_auth requires at least one sink", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("method-wrapping-without-sinks.hcl:2:3: auto_auth: wrapping enabled on auth method and 0 or many sinks defined", StringComparison.Ordinal));
    }

    [Fact]
    public void MisspelledTlsDisable_SuggestsTheKeyAndExplainsTheCertificateErrorsItCauses()
    {
        var lines = Lines(FromHcl("listener \"tcp\" {\n  tls_disabel = true\n}\napi_proxy {}\n"));

        Assert.Equal("test.hcl:2:3: listener \"tcp\": unknown key \"tls_disabel\"; did you mean tls_disable?", lines[0]);
        Assert.Contains(lines, l => l.Contains("'tls_cert_file' must be set", StringComparison.Ordinal) && l.Contains("tls_disable = true", StringComparison.Ordinal));
    }

    [Fact]
    public void JwtMethod_WithoutPathAndRole_ReportsBoth()
    {
        var lines = Lines(LoadFixture("jwt-without-path-and-role.hcl"));

        Assert.Equal(2, lines.Count);
        Assert.StartsWith("jwt-without-path-and-role.hcl:3:14: auto_auth.method \"jwt\": missing 'path' value", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("jwt-without-path-and-role.hcl:3:14: auto_auth.method \"jwt\": missing 'role' value", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void TlsListener_WithoutCertAndKey_SaysHowToTurnTlsOff()
    {
        var line = Assert.Single(Lines(LoadFixture("tls-listener-without-cert.hcl")));

        Assert.Contains("tls_disable = true", line, StringComparison.Ordinal);
    }
}
