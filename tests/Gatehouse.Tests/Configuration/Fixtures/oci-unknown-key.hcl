auto_auth {
  method "oci" {
    config = {
      type    = "apikey"
      role    = "web"
      profile = "PROD"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
