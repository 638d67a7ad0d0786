auto_auth {
  method "token_file" {
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
