auto_auth {
  method "gcp" {
    config = {
      type            = "iam"
      role            = "web"
      service_account = "vault@my-project.iam.gserviceaccount.com"
      credentials     = "/etc/gcp/key.json"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
