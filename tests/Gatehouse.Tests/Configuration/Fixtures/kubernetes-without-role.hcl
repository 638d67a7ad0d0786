auto_auth {
  method "kubernetes" {
    config = { token_path = "/var/run/token" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
