auto_auth {
  method "ldap" {
    config = {
      username                      = "svc-app"
      password_file_path            = "/etc/gatehouse/ldap-password"
      remove_password_after_reading = "sometimes"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
