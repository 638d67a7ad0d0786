cache {
  static_secret_token_capability_refresh_behavior = "lazy"
}
auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
  sink "file" {
    config = {
      path = "/tmp/token"
    }
  }
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
