auto_auth {
  method "oci" {
    config = {
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
