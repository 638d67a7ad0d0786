auto_auth {
  method "approle" {
    config = { role_id_file_path = "/etc/gatehouse/role-id" }
  }
  sink "file" {
    dh_type = "p256"
    dh_path = "/etc/gatehouse/dh.json"
    config  = { path = "/tmp/token" }
  }
}
