auto_auth {
  method "alicloud" {
    config = {
      role          = "web"
      region        = "us-west-1"
      public_key_id = "TMPPUBKEYID"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
