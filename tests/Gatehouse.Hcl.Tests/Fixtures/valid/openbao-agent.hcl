// OpenBao Agent example configuration (openbao.org agent docs)
pid_file = "./pidfile"

vault {
  address = "https://openbao-fqdn:8200"
  retry {
    num_retries = 5
  }
}

auto_auth {
  method "jwt" {
    mount_path = "auth/jwt"
    config = {
      path = "/var/run/secrets/tokens/openbao"
      role = "app"
      remove_jwt_after_reading = false
    }
  }

  sink "file" {
    config = {
      path = "/tmp/file-foo"
    }
  }
}

cache {
  persist "kubernetes" {
    path = "/openbao/agent-cache"
  }
}

listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
