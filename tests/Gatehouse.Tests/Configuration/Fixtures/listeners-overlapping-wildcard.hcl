listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}
listener "tcp" {
  address     = "localhost:8200"
  tls_disable = true
}
api_proxy {}
