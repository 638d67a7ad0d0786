listener "unix" {
  address                            = "/run/gatehouse/gatehouse.sock"
  tls_cert_file                      = "/etc/gatehouse/cert.pem"
  tls_key_file                       = "/etc/gatehouse/key.pem"
  tls_require_and_verify_client_cert = true
  tls_disable_client_certs           = true
}
api_proxy {}
