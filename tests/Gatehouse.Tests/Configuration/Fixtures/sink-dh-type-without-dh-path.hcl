auto_auth {
  method "approle" {
    config = { role_id_file_path = "/etc/gatehouse/role-id" }
  }
  sink "file" {
    dh_type = "curve25519"
    config  = { path = "/tmp/token" }
  }
}
