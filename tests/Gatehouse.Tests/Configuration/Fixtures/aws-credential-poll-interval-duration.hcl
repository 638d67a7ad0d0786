auto_auth {
  method "aws" {
    config = {
      type                     = "iam"
      role                     = "web"
      credential_poll_interval = "1m"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
