listener "unix" {
  address     = "/run/gatehouse/gatehouse.sock"
  tls_disable = true
}
listener "unix" {
  address     = "/run/gatehouse/../gatehouse/gatehouse.sock"
  tls_disable = true
}
api_proxy {}
