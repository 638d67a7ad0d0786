auto_auth {
  method "cf" {
    config = {}
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
