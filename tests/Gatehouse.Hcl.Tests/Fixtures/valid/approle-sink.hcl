# Auto-auth with AppRole and a file sink (Vault Agent auto-auth tutorial)
pid_file = "/home/vault/pidfile"

auto_auth {
  method "approle" {
    mount_path = "auth/approle"
    config = {
      role_id_file_path                   = "/home/vault/roleid"
      secret_id_file_path                 = "/home/vault/secretid"
      remove_secret_id_file_after_reading = false
    }
  }

  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
      mode = 0640
    }
  }
}

vault {
  address = "http://127.0.0.1:8200"
}
