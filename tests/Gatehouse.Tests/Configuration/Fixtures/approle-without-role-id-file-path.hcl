auto_auth {
  method "approle" {
    config = {
      secret_id_file_path = "/etc/gatehouse/secret-id"
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
