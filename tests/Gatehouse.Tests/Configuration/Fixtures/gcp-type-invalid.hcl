auto_auth {
  method "gcp" {
    config = {
      type = "gke"
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
