auto_auth {
  method "oci" {
    config = {
      type                     = "apikey"
      role                     = "web"
      credential_poll_interval = "often"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
