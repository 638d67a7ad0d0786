vault {
  address     = "https://vault.example.com:8200"
  client_cert = "/etc/gatehouse/client.pem"
}
listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {}
