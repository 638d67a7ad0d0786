auto_auth {
  method "alicloud" {
    config = {
      role                     = "web"
      region                   = "us-west-1"
      credential_poll_interval = "60"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
