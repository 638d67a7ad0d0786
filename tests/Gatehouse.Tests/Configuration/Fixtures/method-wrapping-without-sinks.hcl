auto_auth {
  method "approle" {
    wrap_ttl = 300
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
}
api_proxy {
  use_auto_auth_token = false
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
