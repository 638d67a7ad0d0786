# Force the auto-auth token on every request, served on a unix socket and on a TLS listener.
#
# "force" replaces whatever X-Vault-Token a request carries with Gatehouse's own token, so local programs never
# handle a Vault token at all. The unix socket is for programs on this host (plain HTTP: the socket file's mode
# decides who may connect); the TLS listener for other hosts that must present a client certificate. Certificate
# files are read when the listener starts, as in Vault, so this sample validates without them.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "kubernetes" {
    config = {
      role = "web"
    }
  }
}

api_proxy {
  use_auto_auth_token = "force"
}

listener "unix" {
  address = "/run/gatehouse/gatehouse.sock"
  # TLS is on for every listener unless turned off, unix sockets included; a local socket does not need it.
  tls_disable = true
  # Owner and group may be set too (socket_user, socket_group: a name, which must exist on the host, or a numeric
  # id). Gatehouse applies each of the three on its own.
  socket_mode = "0660"
}

listener "tcp" {
  address       = "0.0.0.0:8200"
  tls_cert_file = "/etc/gatehouse/tls/server.pem"
  tls_key_file  = "/etc/gatehouse/tls/server-key.pem"
  tls_min_version = "tls12"

  # Mutual TLS: only clients with a certificate signed by this CA may connect.
  tls_require_and_verify_client_cert = true
  tls_client_ca_file                 = "/etc/gatehouse/tls/clients-ca.pem"

  proxy_api {
    # POST /proxy/v1/quit stops Gatehouse. Off by default.
    enable_quit = false
  }
}

# A metrics-only listener for Prometheus: it serves /proxy/v1/metrics and nothing else.
listener "tcp" {
  address     = "127.0.0.1:9102"
  tls_disable = true
  role        = "metrics_only"
}

telemetry {
  prometheus_retention_time = "1h"
  disable_hostname          = true
}
