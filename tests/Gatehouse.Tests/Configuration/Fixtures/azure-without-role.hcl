auto_auth {
  method "azure" {
    config = { resource = "https://management.azure.com/" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
