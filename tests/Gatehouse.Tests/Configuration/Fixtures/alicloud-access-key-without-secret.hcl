auto_auth {
  method "alicloud" {
    config = {
      role       = "web"
      region     = "us-west-1"
      access_key = "LTAI5tGatehouseExample"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
