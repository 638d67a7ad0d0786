auto_auth {
  method "aws" {
    config = {
      type = "ecs"
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
