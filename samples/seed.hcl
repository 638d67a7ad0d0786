# The configuration Gatehouse was first built against: force the auto-auth token, ask Vault for consistent reads,
# and serve plain HTTP on loopback.

vault {
  address = "http://127.0.0.1:8200"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "/etc/gatehouse/role-id"
      secret_id_file_path = "/etc/gatehouse/secret-id"
    }
  }

  sink "file" {
    config = {
      path = "/tmp/gatehouse-token"
    }
  }
}

api_proxy {
  use_auto_auth_token = "force"
  # Track X-Vault-Index so a read after a write sees the write (useful with Vault Enterprise performance standbys).
  enforce_consistency = "always"
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
