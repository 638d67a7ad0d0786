auto_auth {
  method "alicloud" {
    config = {
      role = "web"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
