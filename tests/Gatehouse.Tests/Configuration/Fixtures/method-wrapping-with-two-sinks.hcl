auto_auth {
  method "approle" {
    wrap_ttl = 300
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
  sink "file" {
    config = { path = "/tmp/token-1" }
  }
  sink "file" {
    config = { path = "/tmp/token-2" }
  }
}
