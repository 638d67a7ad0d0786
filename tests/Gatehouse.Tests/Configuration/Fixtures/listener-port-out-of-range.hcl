listener "tcp" {
  address     = "127.0.0.1:70000"
  tls_disable = true
}
api_proxy {}
