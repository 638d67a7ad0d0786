auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
}
api_proxy {
  use_auto_auth_token = true
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
listener "tcp" {
  address                     = "127.0.0.1:8101"
  tls_disable                 = true
  role                        = "metrics_only"
  auto_auth_token_allow_paths = []
}
