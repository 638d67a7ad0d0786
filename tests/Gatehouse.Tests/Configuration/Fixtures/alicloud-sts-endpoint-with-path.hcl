auto_auth {
  method "alicloud" {
    config = {
      role         = "web"
      region       = "us-west-1"
      role_name    = "web-role"
      sts_endpoint = "https://sts.example.com/v1"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
