auto_auth {
  method "gcp" {
    config = {
      type            = "iam"
      role            = "web"
      service_account = "vault@my-project.iam.gserviceaccount.com"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
