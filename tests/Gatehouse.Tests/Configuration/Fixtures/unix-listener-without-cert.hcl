listener "unix" {
  address      = "/run/gatehouse/gatehouse.sock"
  tls_key_file = "/etc/gatehouse/key.pem"
}
api_proxy {}
