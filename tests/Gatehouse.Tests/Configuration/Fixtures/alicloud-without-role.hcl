auto_auth {
  method "alicloud" {
    config = {
      region = "us-west-1"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
