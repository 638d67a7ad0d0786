/*
 * Listener with TLS and a client certificate requirement,
 * plus a unix socket listener (Vault Agent/Proxy listener docs).
 */
listener "tcp" {
  address            = "0.0.0.0:8200"
  tls_cert_file      = "/etc/certs/vault.crt"
  tls_key_file       = "/etc/certs/vault.key"
  tls_min_version    = "tls12"
  tls_require_and_verify_client_cert = true
  tls_client_ca_file = "/etc/certs/ca.crt"
  tls-skip           = false
  proxy_protocol_behavior = "use_always"
}

listener "unix" {
  address = "/var/run/vault-agent.sock"
  socket_mode = "0660"
  socket_user = "vault"
  socket_group = "vault"
  tls_disable = true
}
