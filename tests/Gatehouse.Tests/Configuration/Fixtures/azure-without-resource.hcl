auto_auth {
  method "azure" {
    config = { role = "web" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
