auto_auth {
  method "azure" {
    config = {
      role                          = "web"
      resource                      = "https://management.azure.com/"
      authenticate_from_environment = "maybe"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
