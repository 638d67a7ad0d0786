pid_file = "/run/gatehouse.pid"
log_level = "debug"
disable_keep_alives = ["auto-auth"]

vault {
  address = "https://vault:8200"
  retry {
    num_retries = 3
  }
}

auto_auth {
  method "jwt" {
    mount_path = "auth/jwt-prod/"
    wrap_ttl = "5m"
    config = {
      path = "/var/run/jwt"
      role = "web"
      jwt_read_period = "30s"
    }
  }

  sink "file" {
    dh_type = "curve25519"
    dh_path = "/etc/gatehouse/dh.json"
    aad = "context"
    derive_key = true
    config = {
      path = "/run/token"
      mode = 0600
    }
  }
}

cache {
  persist "kubernetes" {
    path = "/cache"
  }
}

listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
  proxy_api {
    enable_quit = true
  }
}

listener "unix" {
  address = "/run/gatehouse.sock"
  tls_disable = true
  socket_mode = "0660"
}

telemetry {
  prometheus_retention_time = "12h"
}
