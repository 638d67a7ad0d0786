vault {
  address = "ftp://vault.example.com:8200"
}
listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {}
