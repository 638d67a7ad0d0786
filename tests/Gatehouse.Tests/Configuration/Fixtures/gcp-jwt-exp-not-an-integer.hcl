auto_auth {
  method "gcp" {
    config = {
      type    = "gce"
      role    = "web"
      jwt_exp = "soon"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
