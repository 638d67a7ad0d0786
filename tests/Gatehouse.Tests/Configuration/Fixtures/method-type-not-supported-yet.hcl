auto_auth {
  method "aws" {
    config = { type = "iam", role = "web" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
