auto_auth {
  method "aws" {
    config = {
      type       = "iam"
      role       = "web"
      access_key = "AKIAIOSFODNN7EXAMPLE"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
