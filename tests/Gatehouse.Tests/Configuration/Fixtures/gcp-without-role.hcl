auto_auth {
  method "gcp" {
    config = { type = "gce" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
