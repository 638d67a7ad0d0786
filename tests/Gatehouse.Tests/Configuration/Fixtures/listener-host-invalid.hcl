listener "tcp" {
  address     = "not a host:8200"
  tls_disable = true
}
api_proxy {}
