auto_auth {
  method "gcp" {
    config = {
      type    = "iam"
      role    = "web"
      jwt_exp = -5
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
