auto_auth {
  method "alicloud" {
    config = {
      role   = "web"
      region = "us west 1"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
