listener "tcp" {
  address = "127.0.0.1:8101"
  tls_disable = true
}
log_level = "warn"
