cache {
  cache_static_secrets                            = true
  static_secret_refresh_interval                  = "200ms"
}
auto_auth {
  method "token_file" {
    config = {
      token_file_path = "/etc/gatehouse/token"
    }
  }
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
