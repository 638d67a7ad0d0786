listener "tcp" {
  address     = "127.0.0.1"
  tls_disable = true
}
api_proxy {}
