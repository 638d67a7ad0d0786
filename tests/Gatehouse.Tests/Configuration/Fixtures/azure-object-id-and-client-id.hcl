auto_auth {
  method "azure" {
    config = {
      role      = "web"
      resource  = "https://management.azure.com/"
      object_id = "11111111-1111-1111-1111-111111111111"
      client_id = "22222222-2222-2222-2222-222222222222"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
