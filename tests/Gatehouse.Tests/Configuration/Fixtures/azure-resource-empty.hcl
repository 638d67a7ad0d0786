auto_auth {
  method "azure" {
    config = {
      role     = "web"
      resource = ""
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
