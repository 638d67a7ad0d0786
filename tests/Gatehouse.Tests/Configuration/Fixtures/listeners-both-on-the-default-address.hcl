listener "tcp" {
  tls_disable = true
}
listener "tcp" {
  tls_disable = true
}
api_proxy {}
