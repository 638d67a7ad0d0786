listener "tcp" {
  address           = "127.0.0.1:8200"
  tls_cert_file     = "/etc/gatehouse/cert.pem"
  tls_key_file      = "/etc/gatehouse/key.pem"
  tls_cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_NO_SUCH_SUITE"
}
api_proxy {}
