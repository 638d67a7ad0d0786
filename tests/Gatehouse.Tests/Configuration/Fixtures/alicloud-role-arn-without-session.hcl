auto_auth {
  method "alicloud" {
    config = {
      role          = "web"
      region        = "us-west-1"
      access_key    = "LTAI5tGatehouseExample"
      access_secret = "example-secret"
      role_arn      = "acs:ram::5138828231865461:role/web-role"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
