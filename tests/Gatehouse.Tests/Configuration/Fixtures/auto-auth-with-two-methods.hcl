auto_auth {
  method "approle" {
    config = { role_id_file_path = "/etc/gatehouse/role-id" }
  }
  method "kubernetes" {
    config = { role = "web" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
