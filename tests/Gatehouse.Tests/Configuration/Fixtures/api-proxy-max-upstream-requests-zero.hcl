listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {
  max_upstream_requests = 0
}
