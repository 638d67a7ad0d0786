auto_auth {
  method "approle" {
    min_backoff = "10m"
    max_backoff = "5m"
    config = { role_id_file_path = "/etc/gatehouse/role-id" }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
