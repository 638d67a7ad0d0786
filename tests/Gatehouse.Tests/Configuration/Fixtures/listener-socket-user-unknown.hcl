listener "unix" {
  address     = "/run/gatehouse/gatehouse.sock"
  tls_disable = true
  socket_user = "no-such-user-gatehouse"
}
api_proxy {}
