auto_auth {
  method "oci" {
    config = {
      type = "apikey"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
