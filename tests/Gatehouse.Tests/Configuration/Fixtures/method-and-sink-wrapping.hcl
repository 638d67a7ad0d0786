auto_auth {
  method "approle" {
    wrap_ttl = "5m"
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
  sink "file" {
    wrap_ttl = "5m"
    config = { path = "/tmp/token" }
  }
}
