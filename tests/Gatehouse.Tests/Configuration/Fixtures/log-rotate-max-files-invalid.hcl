log_rotate_max_files = -2
listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {}
