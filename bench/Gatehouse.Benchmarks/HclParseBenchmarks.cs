using BenchmarkDotNet.Attributes;
using Gatehouse.Hcl;

namespace Gatehouse.Benchmarks;

/// <summary>Parse cost of a realistic Vault Proxy config: what every start and every SIGHUP reload pays.</summary>
[MemoryDiagnoser]
public class HclParseBenchmarks
{
    private const string ProxyConfig = """
        # Vault Proxy: API proxy with auto-auth, caching and two listeners.
        pid_file = "/var/run/vault-proxy/pidfile"

        vault {
          address         = "https://vault.example.com:8200"
          ca_cert         = "/etc/vault-proxy/ca.pem"
          client_cert     = "/etc/vault-proxy/client.pem"
          client_key      = "/etc/vault-proxy/client-key.pem"
          tls_server_name = "vault.example.com"

          retry {
            num_retries = 5
          }
        }

        auto_auth {
          method "approle" {
            mount_path = "auth/approle"
            namespace  = "platform/"

            config = {
              role_id_file_path                   = "/etc/vault-proxy/role-id"
              secret_id_file_path                 = "/etc/vault-proxy/secret-id"
              remove_secret_id_file_after_reading = false
            }

            min_backoff = "1s"
            max_backoff = "5m"
          }

          sink "file" {
            wrap_ttl = "5m"
            config = {
              path = "/run/vault-proxy/token"
              mode = 0640
            }
          }

          sink "file" {
            aad_env_var = "TEST_AAD_ENV"
            dh_type     = "curve25519"
            dh_path     = "/run/vault-proxy/dh-public"
            config = {
              path = "/run/vault-proxy/token-encrypted"
            }
          }
        }

        cache {
          cache_static_secrets                  = true
          disable_caching_dynamic_secrets       = false
          static_secret_token_capability_refresh_interval = "5m"

          persist "kubernetes" {
            path              = "/vault/proxy-cache"
            keep_after_import = true
            exit_on_err       = true
          }
        }

        api_proxy {
          use_auto_auth_token = "force"
          enforce_consistency = "always"
          when_inconsistent   = "forward"
        }

        /*
         * Applications talk to the local listener; Prometheus scrapes the second one.
         */
        listener "tcp" {
          address                = "127.0.0.1:8100"
          tls_disable            = true
          require_request_header = true
          proxy_api {
            enable_quit = true
          }
        }

        listener "tcp" {
          address       = "0.0.0.0:8443"
          tls_cert_file = "/etc/vault-proxy/tls.crt"
          tls_key_file  = "/etc/vault-proxy/tls.key"
          tls_min_version = "tls12"
          role          = "metrics_only"
        }

        listener "unix" {
          address      = "/run/vault-proxy/proxy.sock"
          socket_mode  = "0660"
          socket_user  = "vault"
          socket_group = "vault"
          tls_disable  = true
        }

        telemetry {
          prometheus_retention_time = "24h"
          disable_hostname          = true
          usage_gauge_period        = "10m"
          maximum_gauge_cardinality = 500
          lease_metrics_epsilon     = "1h"
          num_lease_metrics_buckets = 168
          add_lease_metrics_namespace_labels = false
          filter_default            = true
          prefix_filter             = ["+vault.proxy", "-vault.cache"]
        }

        log_level = "info"
        log_file  = "/var/log/vault-proxy/proxy.log"
        """;

    private readonly byte[] _utf8 = System.Text.Encoding.UTF8.GetBytes(ProxyConfig);

    [Benchmark(Baseline = true)]
    public HclObject ParseText() => HclParser.Parse(ProxyConfig, "proxy.hcl");

    [Benchmark]
    public HclObject ParseBytes() => HclFile.Parse(_utf8, "proxy.hcl");
}
