auto_auth {
  method "gcp" {
    config = { role = "web" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
