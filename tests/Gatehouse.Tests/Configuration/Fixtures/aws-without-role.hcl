auto_auth {
  method "aws" {
    config = {
      type = "iam"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
