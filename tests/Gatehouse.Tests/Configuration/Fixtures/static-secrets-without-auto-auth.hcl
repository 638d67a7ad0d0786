cache {
  cache_static_secrets = true
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
