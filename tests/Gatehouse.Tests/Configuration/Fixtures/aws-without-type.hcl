auto_auth {
  method "aws" {
    config = {
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
