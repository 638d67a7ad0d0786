auto_auth {
  method "ldap" {
    config = {
      username             = "svc-app"
      password_file_path   = "/etc/gatehouse/ldap-password"
      password_read_period = "0s"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
