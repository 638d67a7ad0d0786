listener "unix" {
  address      = "/run/gatehouse/gatehouse.sock"
  tls_disable  = true
  socket_group = "no-such-group-gatehouse"
}
api_proxy {}
