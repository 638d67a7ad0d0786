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
api_proxy {
  auto_auth_token_allow_paths = "secret/data/app1/*"
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
