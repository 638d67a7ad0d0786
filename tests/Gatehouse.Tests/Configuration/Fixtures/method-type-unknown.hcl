auto_auth {
  method "github" {
    config = { token = "x" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
