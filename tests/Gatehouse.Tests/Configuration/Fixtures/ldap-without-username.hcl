auto_auth {
  method "ldap" {
    config = { password_file_path = "/etc/gatehouse/ldap-password" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
