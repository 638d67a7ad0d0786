auto_auth {
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
