# Vault Proxy API proxy: force the auto-auth token, with caching and a metrics-only listener
vault {
  address = "https://vault-fqdn:8200"
  ca_cert = "/etc/vault/ca.pem"
  retry {
    num_retries = 5
  }
}

auto_auth {
  method {
    type = "approle"
    config = {
      role_id_file_path = "/etc/vault/role-id"
      secret_id_file_path = "/etc/vault/secret-id"
    }
  }
}

cache {
  cache_static_secrets = true
  disable_caching_dynamic_secrets = false
}

api_proxy {
  use_auto_auth_token = "force"
  enforce_consistency = "always"
  when_inconsistent = "forward"
}

listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
  require_request_header = true
}

listener "tcp" {
  address = "127.0.0.1:3000"
  tls_disable = true
  role = "metrics_only"
}

telemetry {
  prometheus_retention_time = "24h"
  disable_hostname = true
}
