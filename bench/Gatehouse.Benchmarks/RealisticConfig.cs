namespace Gatehouse.Benchmarks;

/// <summary>
/// One realistic ~100-line Vault Proxy configuration (every common block, comments, heredoc-free), shared by the parse
/// and the parse + bind + validate benchmarks so their figures describe the same input. It is valid:
/// <see cref="ConfigBenchmarks.CheckTheConfigIsValid"/> refuses to run otherwise.
/// </summary>
internal static class RealisticConfig
{
    public const string ProxyHcl = """
        # Vault Proxy: API proxy with auto-auth, caching, three listeners and telemetry.
        pid_file  = "/var/run/gatehouse/pidfile"
        log_level = "info"
        log_file  = "/var/log/gatehouse/proxy.log"
        disable_idle_connections = ["auto-auth"]

        vault {
          address         = "https://vault.example.com:8200"
          ca_cert         = "/etc/gatehouse/ca.pem"
          client_cert     = "/etc/gatehouse/client.pem"
          client_key      = "/etc/gatehouse/client-key.pem"
          tls_server_name = "vault.example.com"

          retry {
            num_retries = 5
          }
        }

        auto_auth {
          method "approle" {
            mount_path  = "auth/approle"
            namespace   = "platform/"
            min_backoff = "1s"
            max_backoff = "5m"
            exit_on_err = false

            config = {
              role_id_file_path                   = "/etc/gatehouse/role-id"
              secret_id_file_path                 = "/etc/gatehouse/secret-id"
              remove_secret_id_file_after_reading = false
            }
          }

          sink "file" {
            config = {
              path = "/run/gatehouse/token"
              mode = 0640
            }
          }

          sink "file" {
            aad_env_var = "GATEHOUSE_AAD"
            dh_type     = "curve25519"
            dh_path     = "/run/gatehouse/dh-public.json"
            derive_key  = true
            config = {
              path = "/run/gatehouse/token-encrypted"
              mode = "0600"
            }
          }
        }

        cache {
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
         * Applications talk to the local listener and the socket; Prometheus scrapes the TLS one.
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
          address         = "0.0.0.0:8443"
          tls_cert_file   = "/etc/gatehouse/tls.crt"
          tls_key_file    = "/etc/gatehouse/tls.key"
          tls_min_version = "tls12"
          role            = "metrics_only"
        }

        listener "unix" {
          address      = "/run/gatehouse/proxy.sock"
          tls_disable  = true
          socket_mode  = "0660"
          # Numeric ids: a name must exist on the host that validates, and benchmarks run anywhere.
          socket_user  = "100"
          socket_group = "1000"
        }

        telemetry {
          prometheus_retention_time = "24h"
          disable_hostname          = true
          usage_gauge_period        = "10m"
          maximum_gauge_cardinality = 500
          prefix_filter             = ["+vault.proxy", "-vault.cache"]
        }
        """;
}
