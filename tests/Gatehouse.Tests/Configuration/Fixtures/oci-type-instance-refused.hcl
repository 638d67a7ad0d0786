auto_auth {
  method "oci" {
    config = {
      type = "instance"
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
