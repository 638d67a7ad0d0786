vault {
  retry {
    unavailable_budget = "-5s"
  }
}
listener "tcp" {
  address = "127.0.0.1:8100"
  tls_disable = true
}
api_proxy {}
