auto_auth {
  method {
    config = { role_id_file_path = "/etc/gatehouse/role-id" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
