vault {
  address = "https://vault.example.com:99999"
}
listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {}
