auto_auth {
  method "jwt" {
    config = { remove_jwt_after_reading = false }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
