auto_auth {
  method "oci" {
    config = {
      type = "resource"
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
