listener "tcp" {
  tls_cert_file = "/etc/gatehouse/cert.pem"
  tls_key_file  = "/etc/gatehouse/key.pem"
  tls_require_and_verify_client_cert = true
  tls_disable_client_certs = true
}
auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
  sink "file" {
    config = {
      path = "/tmp/token"
    }
  }
}
